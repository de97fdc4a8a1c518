package agenthost

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by Live.Add once Live.StopAll was called.
var ErrClosed = errors.New("closed")

// Member is what Live holds: an instance (a pointer, so comparable).
type Member interface {
	comparable
	ID() string
	Stop(ctx context.Context) error
}

// Live is a backend's set of running instances, keyed by ID, so that Close
// can stop them all. The zero value is ready to use; it is safe for
// concurrent use.
type Live[T Member] struct {
	mu     sync.Mutex
	m      map[string]T
	closed bool
}

// Add records in. It fails with ErrClosed after StopAll, and when another
// instance with in's ID is live.
func (l *Live[T]) Add(in T) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if _, dup := l.m[in.ID()]; dup {
		return fmt.Errorf("instance %s exists", in.ID())
	}
	if l.m == nil {
		l.m = map[string]T{}
	}
	l.m[in.ID()] = in
	return nil
}

// Remove forgets in (not another instance that took its ID since).
func (l *Live[T]) Remove(in T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.m[in.ID()]; ok && cur == in {
		delete(l.m, in.ID())
	}
}

// Has reports whether an instance with id is live.
func (l *Live[T]) Has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.m[id]
	return ok
}

// All returns the live instances, in no order.
func (l *Live[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]T, 0, len(l.m))
	for _, in := range l.m {
		out = append(out, in)
	}
	return out
}

// StopAll makes later Adds fail and stops every live instance, concurrently,
// returning their errors joined.
func (l *Live[T]) StopAll(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	insts := make([]T, 0, len(l.m))
	for _, in := range l.m {
		insts = append(insts, in)
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(insts))
	for i, in := range insts {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = in.Stop(ctx) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}
