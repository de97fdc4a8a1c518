package docker

import (
	"context"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
)

// spares keeps started containers ready to be taken, at most one per key:
// network holders per image (netns.go) and sandboxes started ahead per
// container configuration (ahead.go). A miss is not an error: the caller
// then starts what it needs itself. A spare that dies (removed behind
// lamb's back) is noticed and removed, and so is one left untaken for ttl;
// at max, a new key's spare replaces the oldest.
type spares struct {
	b    *Backend
	what string        // what a spare is, for logs
	max  int           // spares ready or starting at once; 0: no bound
	ttl  time.Duration // an untaken spare is removed after this; 0: never
	life context.Context
	end  context.CancelFunc // at close: stops the watchers
	wg   sync.WaitGroup     // refills and watchers

	mu      sync.Mutex
	ready   map[string]*spare        // key → its spare
	filling map[string]chan struct{} // key → closed when its refill ends
	pending map[string]startFunc     // refills waiting for quiet (refillQuiet)
	quiet   *time.Timer              // runs them; nil until the first
	closed  bool
}

type spare struct {
	*holder
	unwatch context.CancelFunc
	made    time.Time
}

// startFunc creates and starts one spare; its context bounds the work.
type startFunc func(ctx context.Context) (*holder, error)

func newSpares(b *Backend, what string, max int, ttl time.Duration) *spares {
	life, end := context.WithCancel(context.Background())
	return &spares{b: b, what: what, max: max, ttl: ttl, life: life, end: end,
		ready: map[string]*spare{}, filling: map[string]chan struct{}{}, pending: map[string]startFunc{}}
}

// take returns key's spare and forgets it, or nil.
func (s *spares) take(key string) *holder {
	s.mu.Lock()
	sp := s.ready[key]
	delete(s.ready, key)
	s.mu.Unlock()
	if sp == nil {
		return nil
	}
	sp.unwatch()
	return sp.holder
}

// refillQuiet starts a spare for key with start (refill) once the engine
// has been quiet for quietFor: no other refillQuiet or busy meanwhile. A
// spare started while cold starts follow each other (a save, then another)
// would compete with them for the engine and be taken by none.
func (s *spares) refillQuiet(key string, start startFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.pending[key] = start
	s.armLocked()
}

// busy postpones the refills refillQuiet asked for.
func (s *spares) busy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 && !s.closed {
		s.armLocked()
	}
}

func (s *spares) armLocked() {
	if s.quiet == nil {
		s.quiet = time.AfterFunc(quietFor, s.refillPending)
		return
	}
	s.quiet.Reset(quietFor)
}

func (s *spares) refillPending() {
	s.mu.Lock()
	pending := s.pending
	s.pending = map[string]startFunc{}
	s.mu.Unlock()
	for key, start := range pending {
		s.refill(key, start)
	}
}

// refill starts a spare for key with start unless one is ready or starting,
// replacing the oldest spare when max are ready (none when max are
// starting). The channel is closed once key has a spare or the attempt
// failed or was not made.
func (s *spares) refill(key string, start startFunc) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.filling[key]; ok {
		return c
	}
	done := make(chan struct{})
	if s.closed || s.ready[key] != nil || (s.max > 0 && len(s.filling) >= s.max) {
		close(done)
		return done
	}
	var old *spare
	if s.max > 0 && len(s.ready)+len(s.filling) >= s.max {
		var oldKey string
		for k, sp := range s.ready {
			if old == nil || sp.made.Before(old.made) {
				oldKey, old = k, sp
			}
		}
		delete(s.ready, oldKey)
		old.unwatch()
	}
	s.filling[key] = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		// Not cancelled by close: a create the engine finished after the
		// client gave up would leave a container nobody knows about. close
		// waits for this instead (bounded).
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if old != nil {
			s.b.removeContainer(ctx, old.id)
		}
		h, err := start(ctx)
		s.mu.Lock()
		delete(s.filling, key)
		keep := err == nil && !s.closed
		if keep {
			sp := &spare{holder: h, made: time.Now()}
			var wctx context.Context
			wctx, sp.unwatch = context.WithCancel(s.life)
			s.ready[key] = sp
			s.wg.Add(1)
			go s.watch(wctx, key, sp)
		}
		s.mu.Unlock()
		switch {
		case err != nil:
			s.b.log.Warn("docker backend: start "+s.what, "err", err)
		case !keep:
			s.b.removeContainer(ctx, h.id)
		}
	}()
	return done
}

// watch removes sp once its container stops, or ttl passes, while it is
// still the spare; taking the spare or close ends the watch.
func (s *spares) watch(ctx context.Context, key string, sp *spare) {
	defer s.wg.Done()
	waitC, errC := s.b.cli.ContainerWait(ctx, sp.id, container.WaitConditionNotRunning)
	var expired <-chan time.Time
	if s.ttl > 0 {
		t := time.NewTimer(s.ttl)
		defer t.Stop()
		expired = t.C
	}
	why := "died"
	select {
	case <-waitC:
	case <-errC:
		if ctx.Err() != nil {
			return
		}
	case <-expired:
		why = "unused"
	case <-ctx.Done():
		return
	}
	s.mu.Lock()
	mine := s.ready[key] == sp
	if mine {
		delete(s.ready, key)
	}
	s.mu.Unlock()
	if mine {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.b.log.Debug("docker backend: removing "+why+" "+s.what, "container", trimID(sp.id))
		s.b.removeContainer(rctx, sp.id)
	}
}

// drop removes the ready spares that match, at once.
func (s *spares) drop(ctx context.Context, match func(*holder) bool) {
	var gone []*spare
	s.mu.Lock()
	for k, sp := range s.ready {
		if match(sp.holder) {
			delete(s.ready, k)
			sp.unwatch()
			gone = append(gone, sp)
		}
	}
	s.mu.Unlock()
	for _, sp := range gone {
		s.b.removeContainer(ctx, sp.id)
	}
}

// close removes the spares, after waiting for refills in flight; later
// takes return nil and refills start nothing.
func (s *spares) close(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	if s.quiet != nil {
		s.quiet.Stop() // one running finds closed
	}
	ready := s.ready
	s.ready = map[string]*spare{}
	s.mu.Unlock()
	s.end()
	s.wg.Wait()
	// Refills that finished meanwhile removed their own (closed).
	for _, sp := range ready {
		s.b.removeContainer(ctx, sp.id)
	}
}
