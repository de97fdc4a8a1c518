package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/lambhq/lamb/engine/backend"
)

// gatedFake is a fake backend whose invocations with a gated request ID block
// until their gate closes; other invocations echo at once.
type gatedFake struct {
	*fakeBackend
	mu      sync.Mutex
	gates   map[string]chan struct{}
	entered chan string
}

func newGatedFake() *gatedFake {
	g := &gatedFake{fakeBackend: newFake(), gates: map[string]chan struct{}{}, entered: make(chan string, 64)}
	g.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		g.mu.Lock()
		gate := g.gates[inv.RequestID]
		g.mu.Unlock()
		if gate != nil {
			g.entered <- inv.RequestID
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return echo(in, inv), nil
	}
	return g
}

// hold starts one invocation of fn per id that blocks in the function until
// the returned release is called, and returns once all of them are running.
// done receives each invocation's error.
func (g *gatedFake) hold(t *testing.T, e *Engine, fn *Function, ids []string, done chan<- error) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	g.mu.Lock()
	for _, id := range ids {
		g.gates[id] = gate
	}
	g.mu.Unlock()
	for _, id := range ids {
		go func() {
			_, err := e.Invoke(context.Background(), fn, &Request{RequestID: id})
			done <- err
		}()
	}
	for range ids {
		<-g.entered
	}
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

func TestReservedConcurrencyIsPerFunction(t *testing.T) {
	type calls map[string]int // version → number of calls
	tests := []struct {
		name        string
		provisioned calls  // provisioned instances per version, before anything
		idle        calls  // instances left idle per version (by concurrent calls that ended)
		busy        calls  // calls kept running per version
		extra       string // the version of one more call
		wantErr     error  // for the extra call
		wantLaunch  int    // launches in all
	}{
		{name: "two versions share the reservation", busy: calls{"1": 1, "2": 1}, extra: "1", wantErr: ErrThrottled, wantLaunch: 2},
		{name: "a third version has no room either", busy: calls{"1": 1, "2": 1}, extra: "$LATEST", wantErr: ErrThrottled, wantLaunch: 2},
		{name: "one version uses it all", busy: calls{"1": 2}, extra: "2", wantErr: ErrThrottled, wantLaunch: 2},
		{name: "under the reservation", busy: calls{"1": 1}, extra: "2", wantLaunch: 2},
		{name: "idle instances of another version don't count", idle: calls{"1": 2}, busy: calls{"2": 1}, extra: "2", wantLaunch: 4},
		{name: "an idle instance is not taken over the reservation", idle: calls{"1": 1}, busy: calls{"2": 2}, extra: "1", wantErr: ErrThrottled, wantLaunch: 3},
		{name: "idle provisioned instances don't count", provisioned: calls{"1": 2}, busy: calls{"2": 1}, extra: "2", wantLaunch: 4},
		{name: "busy provisioned instances count", provisioned: calls{"1": 1}, busy: calls{"1": 1, "2": 1}, extra: "2", wantErr: ErrThrottled, wantLaunch: 2},
		{name: "a busy provisioned instance leaves room for one", provisioned: calls{"1": 1}, busy: calls{"1": 1}, extra: "1", wantLaunch: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGatedFake()
			e := newEngine(t, g, WithMaxInstances(10))
			ctx := context.Background()
			version := func(v string) *Function {
				fn := testFunction()
				fn.Version = v
				fn.ReservedConcurrency = ptr(2)
				return fn
			}
			for v, n := range tt.provisioned {
				if err := e.Provision(ctx, version(v), n); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 16)
			for v, n := range tt.idle {
				var ids []string
				for i := range n {
					ids = append(ids, fmt.Sprintf("idle-%s-%d", v, i))
				}
				g.hold(t, e, version(v), ids, done)()
				for range n {
					if err := <-done; err != nil {
						t.Fatalf("idle setup: %v", err)
					}
				}
			}
			var ids []string
			var releases []func()
			held := 0
			for v, n := range tt.busy {
				ids = ids[:0]
				for i := range n {
					ids = append(ids, fmt.Sprintf("busy-%s-%d", v, i))
				}
				releases = append(releases, g.hold(t, e, version(v), ids, done))
				held += n
			}
			defer func() {
				for _, r := range releases {
					r()
				}
			}()

			_, err := e.Invoke(ctx, version(tt.extra), &Request{RequestID: "extra"})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("extra call to version %s: err = %v, want %v", tt.extra, err, tt.wantErr)
			}
			if n := g.numLaunches(); n != tt.wantLaunch {
				t.Errorf("launches = %d, want %d", n, tt.wantLaunch)
			}
			for _, r := range releases {
				r()
			}
			for range held {
				if err := <-done; err != nil {
					t.Fatalf("held call: %v", err)
				}
			}
			// Once the held calls ended, the reservation has room again.
			if _, err := e.Invoke(ctx, version(tt.extra), &Request{RequestID: "after"}); err != nil {
				t.Fatalf("call after release: %v", err)
			}
		})
	}
}

// TestMaxInstancesStaysPerPool checks that without a reservation the engine's
// limit still counts each version's pool on its own.
func TestMaxInstancesStaysPerPool(t *testing.T) {
	g := newGatedFake()
	e := newEngine(t, g, WithMaxInstances(1))
	v1, v2 := testFunction(), testFunction()
	v1.Version, v2.Version = "1", "2"
	done := make(chan error, 2)
	release := g.hold(t, e, v1, []string{"busy-1"}, done)
	defer release()
	if _, err := e.Invoke(context.Background(), v2, &Request{RequestID: "other-version"}); err != nil {
		t.Fatalf("version 2 while version 1 is at its limit: %v", err)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
