package eventsource

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeStream is one closed shard of records "0".."n-1" (sequence numbers
// are the same strings); iterators are the index to read from.
type fakeStream struct {
	n       int
	arrival func(i int) time.Time
}

func (f *fakeStream) shards(context.Context) ([]shard, error) { return []shard{{id: "s0"}}, nil }

func (f *fakeStream) iterator(_ context.Context, _, typ, seq string, _ time.Time) (string, error) {
	switch typ {
	case "TRIM_HORIZON":
		return "0", nil
	case "AFTER_SEQUENCE_NUMBER":
		i, _ := strconv.Atoi(seq)
		return strconv.Itoa(i + 1), nil
	}
	return "", fmt.Errorf("iterator type %s", typ)
}

func (f *fakeStream) records(_ context.Context, _, iter string, limit int) ([]streamRecord, string, error) {
	from, _ := strconv.Atoi(iter)
	var recs []streamRecord
	i := from
	for ; i < f.n && len(recs) < limit; i++ {
		r := streamRecord{seq: strconv.Itoa(i), key: strconv.Itoa(i % 3), event: i, view: map[string]any{"data": map[string]any{"i": json.Number(strconv.Itoa(i))}}}
		if f.arrival != nil {
			r.arrival = f.arrival(i)
		}
		recs = append(recs, r)
	}
	if i >= f.n {
		return recs, "", nil // closed, read to its end
	}
	return recs, strconv.Itoa(i), nil
}

func (f *fakeStream) event(recs []streamRecord) ([]byte, error) {
	ids := make([]int, len(recs))
	for i, r := range recs {
		ids[i] = r.event.(int)
	}
	return json.Marshal(ids)
}

// fakeHost records invocations; fail decides a batch's outcome.
type fakeHost struct {
	mu          sync.Mutex
	calls       [][]int
	checkpoints map[string]string
	results     []string
	fail        func(batch []int) (functionError bool, payload string)
}

func (h *fakeHost) Invoke(_ context.Context, _ string, payload []byte) (Result, error) {
	var batch []int
	if err := json.Unmarshal(payload, &batch); err != nil {
		return Result{}, err
	}
	h.mu.Lock()
	h.calls = append(h.calls, batch)
	h.mu.Unlock()
	if h.fail != nil {
		if ferr, p := h.fail(batch); ferr {
			return Result{FunctionError: "Unhandled", Payload: []byte(p)}, nil
		} else if p != "" {
			return Result{Payload: []byte(p)}, nil
		}
	}
	return Result{Payload: []byte("null")}, nil
}

func (h *fakeHost) Checkpoint(_ context.Context, uuid, shard string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.checkpoints[uuid+"/"+shard], nil
}

func (h *fakeHost) SaveCheckpoint(_ context.Context, uuid, shard, seq string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.checkpoints == nil {
		h.checkpoints = map[string]string{}
	}
	h.checkpoints[uuid+"/"+shard] = seq
	return nil
}

func (h *fakeHost) Processed(_ context.Context, _, result string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.results = append(h.results, result)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// runShard reads the fake stream's one shard to its end.
func runShard(t *testing.T, m Mapping, src *fakeStream, h *fakeHost) {
	t.Helper()
	m.UUID = "u"
	p := newStreamPoller(m, src, h, quiet, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !p.shard(ctx, "s0", m.StartingPosition) {
		t.Fatal("shard not read to its end")
	}
}

func contains1(b []int, v int) bool {
	for _, x := range b {
		if x == v {
			return true
		}
	}
	return false
}

func TestStreamBatchesInOrderAndCheckpoint(t *testing.T) {
	h := &fakeHost{}
	runShard(t, Mapping{BatchSize: 4, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1}, &fakeStream{n: 10}, h)
	if got := fmt.Sprint(h.calls); got != "[[0 1 2 3] [4 5 6 7] [8 9]]" {
		t.Errorf("batches %s", got)
	}
	if h.checkpoints["u/s0"] != "9" {
		t.Errorf("checkpoint %q, want 9", h.checkpoints["u/s0"])
	}
	// A poller that starts again resumes after the checkpoint.
	h.calls = nil
	h.checkpoints["u/s0"] = "5"
	runShard(t, Mapping{BatchSize: 4, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1}, &fakeStream{n: 10}, h)
	if got := fmt.Sprint(h.calls); got != "[[6 7 8 9]]" {
		t.Errorf("after the checkpoint: batches %s", got)
	}
}

func TestStreamBisectAndRetryLimit(t *testing.T) {
	h := &fakeHost{fail: func(b []int) (bool, string) { return contains1(b, 5), "" }}
	runShard(t, Mapping{BatchSize: 8, StartingPosition: "TRIM_HORIZON", BisectOnError: true, MaximumRetryAttempts: 1}, &fakeStream{n: 8}, h)
	// [0..7] fails, halves [0..3] ok and [4..7] fails; [4 5] fails, [6 7]
	// ok ... down to [5], tried once and retried once, then discarded.
	want := "[[0 1 2 3 4 5 6 7] [0 1 2 3] [4 5 6 7] [4 5] [4] [5] [5] [6 7]]"
	if got := fmt.Sprint(h.calls); got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
	if h.checkpoints["u/s0"] != "7" {
		t.Errorf("checkpoint %q, want 7 (the batch given up)", h.checkpoints["u/s0"])
	}
	if h.results[len(h.results)-1] != ResultOK || !strings.Contains(strings.Join(h.results, ","), ResultProblem) {
		t.Errorf("results %v", h.results)
	}
}

func TestStreamRetriesWithoutBisect(t *testing.T) {
	h := &fakeHost{fail: func(b []int) (bool, string) { return contains1(b, 1), "" }}
	runShard(t, Mapping{BatchSize: 3, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: 2}, &fakeStream{n: 6}, h)
	if got := fmt.Sprint(h.calls); got != "[[0 1 2] [0 1 2] [0 1 2] [3 4 5]]" {
		t.Errorf("calls %s: want the failing batch tried 1+2 times, then the next", got)
	}
}

func TestStreamReportBatchItemFailures(t *testing.T) {
	tries := 0
	h := &fakeHost{fail: func(b []int) (bool, string) {
		if contains1(b, 2) && tries == 0 {
			tries++
			return false, `{"batchItemFailures":[{"itemIdentifier":"2"}]}`
		}
		return false, ""
	}}
	runShard(t, Mapping{BatchSize: 4, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1, ReportItemFailures: true}, &fakeStream{n: 4}, h)
	if got := fmt.Sprint(h.calls); got != "[[0 1 2 3] [2 3]]" {
		t.Errorf("calls %s: want a retry from the first failed record", got)
	}
}

func TestStreamFilterAndRecordAge(t *testing.T) {
	f, err := ParseFilter([]string{`{"data": {"i": [{"numeric": [">=", 3]}]}}`})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	h := &fakeHost{}
	src := &fakeStream{n: 8, arrival: func(i int) time.Time {
		if i == 4 {
			return old
		}
		return time.Now()
	}}
	runShard(t, Mapping{BatchSize: 10, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1, Filter: f, MaximumRecordAge: time.Minute}, src, h)
	if got := fmt.Sprint(h.calls); got != "[[3 5 6 7]]" {
		t.Errorf("calls %s: want 0-2 filtered out and the hour-old 4 skipped", got)
	}
	if h.checkpoints["u/s0"] != "7" {
		t.Errorf("checkpoint %q, want 7", h.checkpoints["u/s0"])
	}
}

func TestManagerDisabledAndRemoved(t *testing.T) {
	// A mapping of a source without an endpoint is not polled at all.
	m := NewManager(Config{Host: &fakeHost{}, Logger: quiet})
	if m.Polls("arn:aws:sqs:us-east-1:123456789012:q") {
		t.Error("polls without an endpoint")
	}
	m = NewManager(Config{Host: &fakeHost{}, Logger: quiet, Endpoints: Endpoints{SQS: "http://127.0.0.1:1"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	mp := Mapping{UUID: "u", EventSourceArn: "arn:aws:sqs:us-east-1:123456789012:q", Enabled: false}
	m.Apply(mp) // before or after Run began: either starts it
	var r *runner
	for deadline := time.Now().Add(10 * time.Second); r == nil; {
		m.mu.Lock()
		r = m.running["u"]
		m.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("no runner for an applied mapping")
		}
		runtime.Gosched()
	}
	select {
	case <-r.done: // disabled: its runner ends at once
	case <-time.After(10 * time.Second):
		t.Fatal("a disabled mapping's runner did not end")
	}
	mp.Enabled = true
	m.Apply(mp)
	m.Remove("u")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestStreamParallelizationFactor(t *testing.T) {
	h := &fakeHost{}
	runShard(t, Mapping{BatchSize: 4, StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: -1, ParallelizationFactor: 3}, &fakeStream{n: 12}, h)
	seen := 0
	last := map[int]int{}
	for _, b := range h.calls {
		if len(b) > 4 {
			t.Errorf("batch %v over BatchSize", b)
		}
		for _, v := range b {
			seen++
			if prev, ok := last[v%3]; ok && v <= prev {
				t.Errorf("key %d: %d after %d", v%3, v, prev)
			}
			last[v%3] = v
		}
	}
	if seen != 12 || len(h.calls) < 2 {
		t.Errorf("calls %v: want the 12 records in lanes", h.calls)
	}
	if h.checkpoints["u/s0"] != "11" {
		t.Errorf("checkpoint %q, want 11", h.checkpoints["u/s0"])
	}
}
