package engine

import (
	"context"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

func TestDebugFor(t *testing.T) {
	fn := testFunction()
	v2 := *fn
	v2.Version = "2"
	tests := []struct {
		name   string
		target DebugTarget
		fn     *Function
		want   bool
	}{
		{"name is $LATEST", DebugTarget{Function: "echo", Port: 1}, fn, true},
		{"name not v2", DebugTarget{Function: "echo", Port: 1}, &v2, false},
		{"qualified v2", DebugTarget{Function: "echo", Qualifier: "2", Port: 1}, &v2, true},
		{"arn", DebugTarget{Function: fn.ARN, Port: 1}, fn, true},
		{"other arn", DebugTarget{Function: "arn:aws:lambda:us-east-1:1:function:echo", Port: 1}, fn, false},
		{"other name", DebugTarget{Function: "other", Port: 1}, fn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(newFake(), WithDebug(tt.target))
			if got := e.debugFor(tt.fn) != nil; got != tt.want {
				t.Fatalf("debugFor = %v, want %v", got, tt.want)
			}
		})
	}
}

// A debugged function: one instance however many calls wait, the spec says
// so, and a call held past the function's timeout (a breakpoint) answers.
func TestDebugOneInstanceNoTimeout(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		entered <- struct{}{}
		<-release
		if time.Until(inv.Deadline) < time.Hour {
			t.Errorf("runtime deadline %v ahead, want the suspended timeout's", time.Until(inv.Deadline))
		}
		return echo(in, inv), nil
	}
	e := newEngine(t, f, WithDebug(DebugTarget{Function: "echo", Port: 5678, Wait: true}))
	fn := testFunction()
	fn.Timeout = 50 * time.Millisecond
	errc := make(chan error, 2)
	for _, id := range []string{"a", "b"} {
		go func() {
			res, err := e.Invoke(context.Background(), fn, &Request{RequestID: id, Payload: []byte(`"x"`)})
			if err == nil && res.FunctionError != "" {
				t.Errorf("%s: function error %s", id, res.Payload)
			}
			errc <- err
		}()
	}
	<-entered
	time.Sleep(200 * time.Millisecond) // paused well past the 50 ms timeout; b must still wait
	if n := f.numLaunches(); n != 1 {
		t.Fatalf("%d launches, want 1", n)
	}
	if d := f.lastSpec().Debug; d == nil || d.Port != 5678 || !d.Wait {
		t.Fatalf("spec.Debug = %+v", d)
	}
	release <- struct{}{}
	<-entered
	release <- struct{}{}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if n := f.numLaunches(); n != 1 {
		t.Fatalf("%d launches, want 1", n)
	}
}
