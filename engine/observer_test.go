package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/lambhq/lamb/engine/backend"
)

// recorder is an Observer keeping what it is told.
type recorder struct {
	mu    sync.Mutex
	lines []string // "stream line"
	invs  []Invocation
}

func (r *recorder) LogLine(fn *Function, stream string, line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, stream+" "+string(line))
}

func (r *recorder) Invoked(fn *Function, inv Invocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invs = append(r.invs, inv)
}

func TestObserverSeesStreamsAndOutcomes(t *testing.T) {
	f := newFake()
	rec := &recorder{}
	e := newEngine(t, f, WithObserver(rec))
	fn := testFunction()
	for i := range 2 {
		if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: fmt.Sprintf("ok-%d", i), Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	stream := f.lastSpec().Env["AWS_LAMBDA_LOG_STREAM_NAME"]
	if !strings.Contains(stream, "/[$LATEST]") {
		t.Fatalf("stream name %q", stream)
	}

	// A function error, an init error and a throttle.
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		return &backend.Response{ErrorType: "ValueError", Body: nopBody(`{"errorType":"ValueError","errorMessage":"no"}`)}, nil
	}
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "bad", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	broken := testFunction()
	broken.Name, broken.ARN = "broken", broken.ARN+"2"
	f.launch = func(ctx context.Context, spec *backend.Spec) error {
		spec.Log([]byte("import failed"))
		return &backend.InitError{FunctionError: backend.FunctionError{Type: "Runtime.ImportModuleError", Body: []byte(`{"errorType":"Runtime.ImportModuleError","errorMessage":"x"}`)}}
	}
	if _, err := e.Invoke(context.Background(), broken, &Request{RequestID: "init", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	zero := 0
	throttled := testFunction()
	throttled.Name, throttled.ARN, throttled.ReservedConcurrency = "none", throttled.ARN+"3", &zero
	if _, err := e.Invoke(context.Background(), throttled, &Request{RequestID: "thr"}); err != ErrThrottled {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	type want struct {
		id        string
		outcome   Outcome
		errorType string
		cold      bool
	}
	wants := []want{
		{"ok-0", OutcomeSuccess, "", true}, {"ok-1", OutcomeSuccess, "", false},
		{"bad", OutcomeError, "ValueError", false}, {"init", OutcomeInitError, "Runtime.ImportModuleError", true},
		{"thr", OutcomeThrottled, "", false},
	}
	if len(rec.invs) != len(wants) {
		t.Fatalf("invocations %+v", rec.invs)
	}
	for i, w := range wants {
		got := rec.invs[i]
		if got.RequestID != w.id || got.Outcome != w.outcome || got.ErrorType != w.errorType || got.Cold != w.cold {
			t.Errorf("invocation %d = %+v, want %+v", i, got, w)
		}
	}
	if rec.invs[0].Stream != stream || rec.invs[0].InitDuration == 0 || rec.invs[1].InitDuration != 0 {
		t.Errorf("first invocations %+v %+v (stream %q)", rec.invs[0], rec.invs[1], stream)
	}
	if rec.invs[3].Stream == "" || rec.invs[3].Stream == stream {
		t.Errorf("init error's stream %q: want the failed instance's own", rec.invs[3].Stream)
	}
	// Every line of the first invocation, START to REPORT, is on its instance's stream.
	if got := rec.lines[0]; got != stream+" START RequestId: ok-0 Version: $LATEST" {
		t.Errorf("first line %q", got)
	}
	initLines := 0
	for _, l := range rec.lines {
		if strings.HasPrefix(l, rec.invs[3].Stream+" ") {
			initLines++
		}
	}
	if initLines != 4 { // the runtime's line, START, END, REPORT
		t.Errorf("%d lines on the failed instance's stream, want 4: %q", initLines, rec.lines)
	}
}

func nopBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
