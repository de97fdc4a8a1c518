package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/internal/testwait"
)

// liveInstances snapshots the fake backend's running instances.
func (f *fakeBackend) liveInstances() []*fakeInstance {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*fakeInstance, 0, len(f.live))
	for _, in := range f.live {
		out = append(out, in)
	}
	return out
}

// provisionedFn provisions n instances of testFunction's version on e.
func provisionedFn(t *testing.T, e *Engine, version string, n int) *Function {
	t.Helper()
	fn := testFunction()
	fn.Version = version
	if err := e.Provision(context.Background(), fn, n); err != nil {
		t.Fatal(err)
	}
	return fn
}

func TestProvisionedInstanceThatDiesIsReplaced(t *testing.T) {
	tests := []struct {
		name string
		kill func(t *testing.T, e *Engine, f *fakeBackend, fn *Function)
	}{
		{"stopped behind the engine's back while idle", func(t *testing.T, _ *Engine, f *fakeBackend, _ *Function) {
			_ = f.liveInstances()[0].Stop(context.Background())
		}},
		{"exits during an invocation", func(t *testing.T, e *Engine, f *fakeBackend, fn *Function) {
			f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
				_ = in.Stop(ctx)
				return nil, &backend.ExitError{Code: 1}
			}
			res, err := e.Invoke(context.Background(), fn, &Request{RequestID: "crash"})
			if err != nil || res.FunctionError != "Unhandled" {
				t.Fatalf("crashing invocation: %+v, %v", res, err)
			}
		}},
		{"all of them stopped at once", func(t *testing.T, _ *Engine, f *fakeBackend, _ *Function) {
			for _, in := range f.liveInstances() {
				_ = in.Stop(context.Background())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			e := newEngine(t, f)
			fn := provisionedFn(t, e, "3", 2)
			before, orig := f.numLaunches(), f.liveInstances()
			tt.kill(t, e, f, fn)
			dead := 0
			for _, in := range orig {
				select {
				case <-in.Done():
					dead++
				default:
				}
			}
			if dead == 0 {
				t.Fatal("nothing died: the test could not fail")
			}
			// No invocation and no Provision: the engine notices by itself.
			testwait.For(t, "provisioned instances to be replaced", func() bool {
				return e.Provisioned(fn) == 2 && f.numLive() == 2 && len(e.Instances()) == 2
			})
			if got := f.numLaunches() - before; got != dead {
				t.Errorf("%d replacement launches for %d dead instances", got, dead)
			}
			for _, in := range e.Instances() {
				if in.State != stateIdle {
					t.Errorf("instance %s is %s, want idle", in.ID, in.State)
				}
			}
		})
	}
}

func TestProvisionedReplacementBacksOff(t *testing.T) {
	f := newFake()
	var (
		failing  atomic.Bool
		mu       sync.Mutex
		attempts []time.Time
	)
	f.launch = func(context.Context, *backend.Spec) error {
		if !failing.Load() {
			return nil
		}
		mu.Lock()
		attempts = append(attempts, time.Now())
		mu.Unlock()
		return &backend.InitError{FunctionError: backend.FunctionError{Type: "Runtime.ImportModuleError"}}
	}
	e := newEngine(t, f)
	e.opts.refillBackoff, e.opts.refillMaxBackoff = 20*time.Millisecond, 80*time.Millisecond
	fn := provisionedFn(t, e, "1", 1)
	failing.Store(true)
	_ = f.liveInstances()[0].Stop(context.Background())
	numAttempts := func() int { mu.Lock(); defer mu.Unlock(); return len(attempts) }
	testwait.For(t, "five replacement attempts", func() bool { return numAttempts() >= 5 })
	if e.Provisioned(fn) != 0 {
		t.Fatalf("Provisioned = %d while every replacement fails", e.Provisioned(fn))
	}
	// The first replacement is immediate; then the wait doubles up to the cap.
	mu.Lock()
	gaps := make([]time.Duration, 4)
	for i := range gaps {
		gaps[i] = attempts[i+1].Sub(attempts[i])
	}
	mu.Unlock()
	for i, want := range []time.Duration{20, 40, 80, 80} {
		if gaps[i] < want*time.Millisecond {
			t.Errorf("wait before attempt %d = %v, want at least %v", i+2, gaps[i], want*time.Millisecond)
		}
	}
	// Once launches work again, the pool gets its instance back.
	failing.Store(false)
	testwait.For(t, "the instance to come back", func() bool { return e.Provisioned(fn) == 1 })
}

func TestRefillDelay(t *testing.T) {
	e := New(newFake())
	e.opts.refillBackoff, e.opts.refillMaxBackoff = 100*time.Millisecond, time.Second
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {2, 100 * time.Millisecond}, {3, 200 * time.Millisecond},
		{5, 800 * time.Millisecond}, {6, time.Second}, {1000, time.Second},
	}
	for _, tt := range tests {
		if got := e.refillDelay(tt.failures); got != tt.want {
			t.Errorf("refillDelay(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

// Instances stopped on purpose (scaled down, unprovisioned, evicted) are not
// replaced.
func TestProvisionedStoppedOnPurposeStayStopped(t *testing.T) {
	tests := []struct {
		name     string
		stop     func(e *Engine, fn *Function) error
		wantLive int
	}{
		{"scaled down", func(e *Engine, fn *Function) error { return e.Provision(context.Background(), fn, 1) }, 1},
		{"unprovisioned then idle-reaped", func(e *Engine, fn *Function) error {
			if err := e.Unprovision(context.Background(), fn); err != nil {
				return err
			}
			e.stopIdle(time.Now().Add(time.Hour))
			return nil
		}, 0},
		{"evicted", func(e *Engine, fn *Function) error { _, err := e.Evict(context.Background(), fn); return err }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			e := New(f)
			fn := provisionedFn(t, e, "1", 2)
			if err := tt.stop(e, fn); err != nil {
				t.Fatal(err)
			}
			testwait.For(t, "instances to stop", func() bool { return f.numLive() == tt.wantLive })
			// Every watcher has seen its instance end once the pool's
			// refill state is idle and no instance is left unwatched.
			testwait.For(t, "watchers to settle", func() bool {
				e.mu.Lock()
				defer e.mu.Unlock()
				for _, p := range e.pools {
					if p.prov != nil && p.prov.refilling {
						return false
					}
				}
				return true
			})
			if err := e.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := f.numLaunches(); n != 2 {
				t.Fatalf("%d launches, want the 2 provisioned", n)
			}
		})
	}
}

// A provisioned instance that dies while its invocation streams is replaced
// once, not twice (the invocation's release and the watcher both see it).
func TestProvisionedDeathCountedOnce(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := provisionedFn(t, e, "1", 1)
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		_ = in.Stop(ctx)
		return nil, errors.New("connection reset")
	}
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "x"}); err == nil {
		t.Fatal("invocation on a dying instance succeeded")
	}
	testwait.For(t, "replacement", func() bool { return e.Provisioned(fn) == 1 })
	e.mu.Lock()
	p := e.pools[poolKey(fn)]
	failures := p.prov.failures
	e.mu.Unlock()
	if failures != 1 {
		t.Errorf("failures = %d after one death, want 1", failures)
	}
	if n := f.numLaunches(); n != 2 {
		t.Errorf("%d launches, want 2", n)
	}
}
