package engine

import (
	"context"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/internal/testwait"
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

// Provisioned concurrency on a debugged function is one instance: the one
// the debugger attaches to, started ahead (or the one already running,
// adopted), replaced when it dies; concurrent calls wait for it.
func TestDebugProvisionedOneInstance(t *testing.T) {
	for _, invokeFirst := range []bool{false, true} {
		t.Run(map[bool]string{false: "fresh", true: "adopts the running instance"}[invokeFirst], func(t *testing.T) {
			f := newFake()
			e := newEngine(t, f, WithDebug(DebugTarget{Function: "echo", Port: 5678}))
			fn := testFunction()
			ctx := context.Background()
			if invokeFirst {
				if _, err := e.Invoke(ctx, fn, &Request{RequestID: "first", Payload: []byte(`"x"`)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Provision(ctx, fn, 3); err != nil {
				t.Fatal(err)
			}
			if n, p := f.numLaunches(), e.Provisioned(fn); n != 1 || p != 1 {
				t.Fatalf("Provision(3): %d launches, %d provisioned; want 1 and 1", n, p)
			}
			errc := make(chan error, 3)
			for _, id := range []string{"a", "b", "c"} {
				go func() {
					_, err := e.Invoke(ctx, fn, &Request{RequestID: id, Payload: []byte(`"x"`)})
					errc <- err
				}()
			}
			for range 3 {
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
			if n := f.numLaunches(); n != 1 {
				t.Fatalf("%d launches after 3 calls, want the provisioned one only", n)
			}
			// Dies behind the engine's back: replaced, still one.
			f.mu.Lock()
			var victim *fakeInstance
			for _, in := range f.live {
				victim = in
			}
			f.mu.Unlock()
			_ = victim.Stop(ctx)
			testwait.For(t, "the provisioned instance to be replaced", func() bool {
				return f.numLaunches() == 2 && e.Provisioned(fn) == 1
			})
			if n := f.numLive(); n != 1 {
				t.Fatalf("%d live instances, want 1", n)
			}
		})
	}
}
