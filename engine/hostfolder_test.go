package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

func hotFn(dir, rev string) *Function {
	return &Function{Name: "hot", ARN: "arn:aws:lambda:us-east-1:000000000000:function:hot", Runtime: "python3.12",
		Handler: "h.handler", Code: backend.Artifact{Dir: dir, Revision: rev}}
}

// TestHostFolderRevisionReplacesInstances: a new revision of a folder is a
// new pool, like a code update: the call running on the old revision
// finishes on its instance, which is stopped then; the next call gets a new
// instance launched with the folder.
func TestHostFolderRevisionReplacesInstances(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	f.caps.HostFolders = true
	release := make(chan struct{})
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		if string(inv.Payload) == `"slow"` {
			<-release
		}
		return echo(in, inv), nil
	}
	e := New(f)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	ctx := context.Background()

	if _, err := e.Invoke(ctx, hotFn(dir, "r1"), &Request{RequestID: "a", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if got := f.lastSpec().Code.Dir; got != dir {
		t.Fatalf("spec Code.Dir = %q, want %q", got, dir)
	}
	slow := make(chan *Result, 1)
	go func() {
		res, err := e.Invoke(ctx, hotFn(dir, "r1"), &Request{RequestID: "b", Payload: []byte(`"slow"`)})
		if err != nil {
			res = &Result{FunctionError: err.Error()}
		}
		slow <- res
	}()
	waitFor(t, func() bool { return busyCount(e) == 1 })

	res, err := e.Invoke(ctx, hotFn(dir, "r2"), &Request{RequestID: "c", Payload: []byte(`{"n":2}`)})
	if err != nil || res.FunctionError != "" {
		t.Fatalf("invoke on r2: %v %+v", err, res)
	}
	if f.numLaunches() != 2 || f.lastSpec().Code.Revision != "r2" {
		t.Fatalf("launches %d, last revision %q: want a new instance for r2", f.numLaunches(), f.lastSpec().Code.Revision)
	}
	close(release)
	if r := <-slow; r.FunctionError != "" || string(r.Payload) != `"slow"` {
		t.Fatalf("the call on r1 did not finish: %+v", r)
	}
	// The r1 instance stops once its call is done; r2's stays warm.
	waitFor(t, func() bool { return f.numLive() == 1 })
}

// TestHostFolderMissing: a folder that is gone is a function error that says
// so, and nothing is launched.
func TestHostFolderMissing(t *testing.T) {
	f := newFake()
	f.caps.HostFolders = true
	e := New(f)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	dir := filepath.Join(t.TempDir(), "gone")
	res, err := e.Invoke(context.Background(), hotFn(dir, "r1"), &Request{RequestID: "a", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ErrorType, ErrorMessage string }
	if res.FunctionError != "Unhandled" || json.Unmarshal(res.Payload, &doc) != nil || doc.ErrorType != HotReloadErrorType ||
		!bytes.Contains([]byte(doc.ErrorMessage), []byte(dir)) {
		t.Fatalf("result %+v %s", res, res.Payload)
	}
	if f.numLaunches() != 0 {
		t.Errorf("%d launches for a missing folder", f.numLaunches())
	}
	// A file is not a folder either.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = e.Invoke(context.Background(), hotFn(file, "r1"), &Request{RequestID: "b", Payload: []byte(`{}`)})
	if err != nil || res.FunctionError != "Unhandled" {
		t.Fatalf("file as folder: %v %+v", err, res)
	}
}

// TestHostFolderRefused: a backend without HostFolders gets a StateError at
// Prepull and at invoke, not a launch.
func TestHostFolderRefused(t *testing.T) {
	f := newFake()
	e := New(f)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	fn := hotFn(t.TempDir(), "r1")
	var se *StateError
	if err := e.Prepull(context.Background(), fn, nil); !errors.As(err, &se) {
		t.Fatalf("Prepull: %v, want a StateError", err)
	}
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "a", Payload: []byte(`{}`)}); !errors.As(err, &se) {
		t.Fatalf("Invoke: %v, want a StateError", err)
	}
	if f.numLaunches() != 0 {
		t.Errorf("%d launches", f.numLaunches())
	}
}

func busyCount(e *Engine) int {
	n := 0
	for _, in := range e.Instances() {
		if in.State == "busy" {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
