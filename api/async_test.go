package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/store"
)

// blockEngine holds every invocation until its context ends: the events it
// is given are claimed and never finished, as when lamb dies mid-run.
type blockEngine struct {
	mu      sync.Mutex
	started int
}

func (e *blockEngine) Invoke(ctx context.Context, _ *engine.Function, _ *engine.Request) (*engine.Result, error) {
	e.mu.Lock()
	e.started++
	e.mu.Unlock()
	<-ctx.Done()
	return nil, ctx.Err()
}
func (e *blockEngine) Prepull(context.Context, *engine.Function, func(backend.Progress)) error {
	return nil
}
func (e *blockEngine) Evict(context.Context, *engine.Function) (bool, error) { return false, nil }
func (e *blockEngine) Instances() []engine.InstanceInfo                      { return nil }

func (e *blockEngine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.started
}

// storedAsync returns the async-events records of a store, by key.
func storedAsync(t *testing.T, st store.Store) map[string]asyncRecord {
	t.Helper()
	out := map[string]asyncRecord{}
	err := st.View(context.Background(), func(tx store.Tx) error {
		return tx.Scan(bucketAsyncEvents, "", "", func(key string, raw []byte) error {
			var rec asyncRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				return err
			}
			out[key] = rec
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func eventInvoke(t *testing.T, c *lambda.Client, name, payload string) {
	t.Helper()
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusAccepted {
		t.Fatalf("Event invoke answered %d", out.StatusCode)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Events accepted by a server that stops before running them (some claimed
// by a worker mid-run, the rest queued) run on the next server started on
// the same store, and leave the store empty once run.
func TestAsyncEventsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	blocked := &blockEngine{}
	h1, stop1 := startProvServer(t, Config{Store: st, Engine: blocked, AsyncQueueMaxEvents: 100})
	if _, err := h1.client.CreateFunction(ctx, createInput(t, "durable")); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h1.client, "durable")
	const n = 20 // more than the workers: some are held, the rest queued
	for i := range n {
		eventInvoke(t, h1.client, "durable", `{"i":`+itoa(int32(i))+`}`)
	}
	if got := len(storedAsync(t, st)); got != n {
		t.Fatalf("%d events stored after their 202, want %d", got, n)
	}
	waitFor(t, "workers to claim events", func() bool { return blocked.count() == asyncWorkers })
	stop1()
	if got := len(storedAsync(t, st)); got != n {
		t.Fatalf("%d events stored after the stop, want %d", got, n)
	}

	eng := &echoEngine{}
	h2, _ := startProvServer(t, Config{Store: st, Engine: eng})
	if err := h2.srv.RestoreAsync(ctx); err != nil {
		t.Fatal(err)
	}
	waitRequests(t, eng, "durable", n)
	seen := map[string]bool{}
	for _, r := range eng.requestsTo("durable") {
		seen[string(r.Payload)] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct events ran, want %d", len(seen), n)
	}
	waitFor(t, "the store to empty", func() bool { return len(storedAsync(t, st)) == 0 })
	waitFor(t, "the queue to empty", func() bool { c, b := h2.srv.asyncQueueLen(); return c == 0 && b == 0 })
}

// An attempt that fails before reaching the function (the engine down) uses
// no retry, as AWS returns such events to the queue: an event whose function
// has no retries still runs once the engine answers again.
func TestAsyncSystemErrorsUseNoRetry(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	eng := &echoEngine{sysErrs: 2}
	h, _ := startProvServer(t, Config{Store: st, Engine: eng, AsyncRetryDelay: time.Hour})
	if _, err := h.client.CreateFunction(ctx, createInput(t, "fn")); err != nil {
		t.Fatal(err)
	}
	waitActive(t, h.client, "fn")
	if _, err := h.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String("fn"), MaximumRetryAttempts: aws.Int32(0),
	}); err != nil {
		t.Fatal(err)
	}
	eventInvoke(t, h.client, "fn", `{"n":1}`)
	// 0.5 s and 1 s of back-off, then the run that succeeds.
	waitRequests(t, eng, "fn", 3)
	waitFor(t, "the event's record to be deleted", func() bool { return len(storedAsync(t, st)) == 0 })
}

// A retry scheduled by one server is run by the next with the attempts
// already made counted, and the failure destination follows the last.
func TestAsyncRetriesContinueAfterRestart(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	eng1 := &echoEngine{failName: "flaky"}
	h1, stop1 := startProvServer(t, Config{Store: st, Engine: eng1, AsyncRetryDelay: time.Second})
	sc := scope{Account: testAccount, Region: "us-east-1"}
	for _, name := range []string{"flaky", "sink"} {
		if _, err := h1.client.CreateFunction(ctx, createInput(t, name)); err != nil {
			t.Fatal(err)
		}
		waitActive(t, h1.client, name)
	}
	if _, err := h1.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String("flaky"), MaximumRetryAttempts: aws.Int32(2),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(functionArn(sc, "sink"))}},
	}); err != nil {
		t.Fatal(err)
	}
	eventInvoke(t, h1.client, "flaky", `{"n":1}`)
	waitRequests(t, eng1, "flaky", 1)
	var before asyncRecord
	waitFor(t, "the retry to be stored", func() bool {
		for _, rec := range storedAsync(t, st) {
			before = rec
			return rec.Attempt == 1
		}
		return false
	})
	stop1()
	if got := len(eng1.requestsTo("flaky")); got != 1 {
		t.Fatalf("the first server ran %d attempts, want 1", got)
	}

	eng2 := &echoEngine{failName: "flaky"}
	h2, _ := startProvServer(t, Config{Store: st, Engine: eng2, AsyncRetryDelay: time.Millisecond})
	if err := h2.srv.RestoreAsync(ctx); err != nil {
		t.Fatal(err)
	}
	rec := destinationRecord(t, eng2, "sink", 1)
	if got := len(eng2.requestsTo("flaky")); got != 2 {
		t.Errorf("the second server ran %d attempts, want the 2 retries left", got)
	}
	if rec.RequestContext.Condition != "RetriesExhausted" || rec.RequestContext.ApproximateInvokeCount != 3 ||
		rec.RequestContext.RequestID != before.RequestID {
		t.Errorf("failure record %+v, want RetriesExhausted after 3 attempts of %s", rec.RequestContext, before.RequestID)
	}
	waitFor(t, "the store to empty", func() bool { return len(storedAsync(t, st)) == 0 })
}

// An event's age counts from its first enqueue, across restarts: one older
// than its maximum age when a server loads it is dropped, to the failure
// destination.
func TestAsyncEventAgeCountsFromFirstEnqueue(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	eng := &echoEngine{}
	h, _ := startProvServer(t, Config{Store: st, Engine: eng})
	sc := scope{Account: testAccount, Region: "us-east-1"}
	for _, name := range []string{"old", "sink"} {
		if _, err := h.client.CreateFunction(ctx, createInput(t, name)); err != nil {
			t.Fatal(err)
		}
		waitActive(t, h.client, name)
	}
	if _, err := h.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String("old"), MaximumEventAgeInSeconds: aws.Int32(60),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(functionArn(sc, "sink"))}},
	}); err != nil {
		t.Fatal(err)
	}
	// As a server that died two minutes ago, retrying, would have left it.
	var f functionRecord
	if err := st.View(ctx, func(tx store.Tx) error { return tx.Get(bucketFunctions, functionKey(sc, "old"), &f) }); err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(-2 * time.Minute)
	old := asyncRecord{Function: f.info(), RequestID: "old-event", InvokedARN: f.info().FunctionArn, Payload: []byte(`{}`),
		FirstEnqueued: first, Attempt: 1, NextRun: time.Now()}
	if err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Put(bucketAsyncEvents, asyncEventKey(testAccount, "us-east-1", first, "old-event"), &old)
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.RestoreAsync(ctx); err != nil {
		t.Fatal(err)
	}
	rec := destinationRecord(t, eng, "sink", 1)
	if got := len(eng.requestsTo("old")); got != 0 {
		t.Errorf("the expired event ran %d times", got)
	}
	if rec.RequestContext.Condition != "EventAgeExceeded" || rec.RequestContext.RequestID != "old-event" || rec.RequestContext.ApproximateInvokeCount != 2 {
		t.Errorf("failure record %+v", rec.RequestContext)
	}
	waitFor(t, "the store to empty", func() bool { return len(storedAsync(t, st)) == 0 })
}

// Beyond its bound in events or in bytes, the queue refuses Event
// invocations with AWS's 429, and stores nothing of them.
func TestAsyncQueueBound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		payload string
		accept  int
	}{
		{"events", Config{AsyncQueueMaxEvents: 3}, `{}`, 3},
		{"bytes", Config{AsyncQueueMaxBytes: 8000}, `{"pad":"` + strings.Repeat("x", 3000) + `"}`, 1}, // payloads are stored base64
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openBolt(t)
			cfg := tc.cfg
			cfg.Store, cfg.Engine = st, &blockEngine{}
			h, _ := startProvServer(t, cfg)
			if _, err := h.client.CreateFunction(ctx, createInput(t, "bounded")); err != nil {
				t.Fatal(err)
			}
			waitActive(t, h.client, "bounded")
			hdr := withHeader(sigv4(testAccount, "us-east-1"), "X-Amz-Invocation-Type", "Event")
			for i := range tc.accept {
				if rr := h.raw(http.MethodPost, "/2015-03-31/functions/bounded/invocations", tc.payload, hdr); rr.status != http.StatusAccepted {
					t.Fatalf("event %d: %d %s", i, rr.status, rr.body)
				}
			}
			rr := h.raw(http.MethodPost, "/2015-03-31/functions/bounded/invocations", tc.payload, hdr)
			var body map[string]string
			_ = json.Unmarshal(rr.body, &body)
			if rr.status != http.StatusTooManyRequests || rr.header.Get("X-Amzn-ErrorType") != "TooManyRequestsException" ||
				body["Reason"] != "FunctionInvocationRateLimitExceeded" || body["Type"] != "User" {
				t.Errorf("beyond the bound: %d %s %s", rr.status, rr.header.Get("X-Amzn-ErrorType"), rr.body)
			}
			if got := len(storedAsync(t, st)); got != tc.accept {
				t.Errorf("%d events stored, want %d", got, tc.accept)
			}
		})
	}
}
