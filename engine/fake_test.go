package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// fakeBackend runs instances in memory. Its behaviour is set per test through
// launch and handle.
type fakeBackend struct {
	// launch, if set, may fail a launch.
	launch func(ctx context.Context, spec *backend.Spec) error
	// handle answers an invocation; the default echoes the payload.
	handle func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error)

	caps backend.Capabilities

	mu       sync.Mutex
	launches int
	live     map[string]*fakeInstance
	specs    []*backend.Spec
	closed   bool
}

func newFake() *fakeBackend { return &fakeBackend{live: map[string]*fakeInstance{}} }

func (f *fakeBackend) Name() string                       { return "fake" }
func (f *fakeBackend) Capabilities() backend.Capabilities { return f.caps }
func (f *fakeBackend) Reap(context.Context) error         { return nil }
func (f *fakeBackend) Prepull(_ context.Context, image string, progress func(backend.Progress)) error {
	progress(backend.Progress{Image: image, Status: "done"})
	return nil
}

func (f *fakeBackend) Close(context.Context) error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func (f *fakeBackend) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	f.mu.Lock()
	f.launches++
	f.specs = append(f.specs, spec)
	f.mu.Unlock()
	if f.launch != nil {
		if err := f.launch(ctx, spec); err != nil {
			return nil, err
		}
	}
	in := &fakeInstance{f: f, spec: spec, done: make(chan struct{})}
	f.mu.Lock()
	f.live[spec.InstanceID] = in
	f.mu.Unlock()
	return in, nil
}

func (f *fakeBackend) numLaunches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.launches
}

func (f *fakeBackend) numLive() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.live)
}

func (f *fakeBackend) lastSpec() *backend.Spec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.specs[len(f.specs)-1]
}

type fakeInstance struct {
	f       *fakeBackend
	spec    *backend.Spec
	done    chan struct{}
	once    sync.Once
	invokes atomic.Int32
}

func (i *fakeInstance) ID() string                  { return i.spec.InstanceID }
func (i *fakeInstance) InitDuration() time.Duration { return 12340 * time.Microsecond }
func (i *fakeInstance) Done() <-chan struct{}       { return i.done }

func (i *fakeInstance) Stop(context.Context) error {
	i.once.Do(func() {
		close(i.done)
		i.f.mu.Lock()
		delete(i.f.live, i.spec.InstanceID)
		i.f.mu.Unlock()
	})
	return nil
}

func (i *fakeInstance) Invoke(ctx context.Context, inv *backend.Invocation) (*backend.Response, error) {
	i.invokes.Add(1)
	select {
	case <-i.done:
		return nil, fmt.Errorf("fake: %w", backend.ErrNotDelivered)
	default:
	}
	if i.f.handle != nil {
		return i.f.handle(ctx, i, inv)
	}
	return echo(i, inv), nil
}

// echo answers with the payload and logs one line through the spec's log.
func echo(i *fakeInstance, inv *backend.Invocation) *backend.Response {
	line := []byte("handling " + inv.RequestID)
	if i.spec.Log != nil {
		i.spec.Log(line)
	}
	return &backend.Response{
		ContentType:     "application/json",
		Body:            io.NopCloser(bytes.NewReader(inv.Payload)),
		Log:             func() []byte { return append(line, '\n') },
		MaxMemoryUsedMB: func() int { return 40 },
	}
}
