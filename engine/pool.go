package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

type pool struct {
	key, arn, name, version string
	insts                   map[*instance]struct{}
	idle                    []*instance // most recently used last
	retired                 bool        // the function changed: drain and stop
	prov                    *provState  // provisioned concurrency (provisioned.go); nil if never provisioned
}

// poolLocked returns the pool for fn, creating it, and retires pools of the
// same function version with another configuration. It returns idle
// instances of retired pools for the caller to stop.
func (e *Engine) poolLocked(fn *Function, key string) (*pool, []*instance) {
	var stop []*instance
	p := e.pools[key]
	if p != nil && p.retired {
		// A retired pool (evicted, or its function changed and changed back)
		// drains under another name; new calls get a fresh pool, not a pool
		// whose instances stop after one call.
		delete(e.pools, key)
		p.key = key + "#draining-" + randomHex(4)
		e.pools[p.key] = p
		p = nil
	}
	if p == nil {
		p = &pool{key: key, arn: fn.ARN, name: fn.Name, version: fn.version(), insts: map[*instance]struct{}{}}
		e.pools[key] = p
		for _, old := range e.pools {
			if old != p && !old.retired && old.arn == p.arn && old.version == p.version {
				stop = append(stop, e.retireLocked(old)...)
			}
		}
	}
	return p, stop
}

// inflightLocked counts the invocations in flight across every pool of the
// function arn (all versions and configurations): reserved concurrency is a
// per-function limit in AWS. Idle instances, provisioned or not, don't count.
func (e *Engine) inflightLocked(arn string) int {
	n := 0
	for _, p := range e.pools {
		if p.arn != arn {
			continue
		}
		for in := range p.insts {
			if in.inflight {
				n++
			}
		}
	}
	return n
}

// retireLocked marks p as draining: its idle instances are removed and
// returned for stopping; busy ones stop when released.
func (e *Engine) retireLocked(p *pool) []*instance {
	p.retired = true
	idle := p.idle
	p.idle = nil
	for _, in := range idle {
		e.removeLocked(in)
	}
	for in := range p.insts {
		in.doomed = true
	}
	e.dropIfEmptyLocked(p)
	return idle
}

func (e *Engine) removeLocked(in *instance) {
	p := in.pool
	if _, ok := p.insts[in]; !ok {
		return
	}
	delete(p.insts, in)
	for i, x := range p.idle {
		if x == in {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	e.dropIfEmptyLocked(p)
	e.broadcastLocked()
}

func (e *Engine) dropIfEmptyLocked(p *pool) {
	if p.retired && len(p.insts) == 0 && e.pools[p.key] == p {
		delete(e.pools, p.key)
	}
}

// stopAsync stops instances in the background; Close waits for them.
func (e *Engine) stopAsync(insts ...*instance) {
	for _, in := range insts {
		if in.b == nil {
			continue
		}
		e.bg.Add(1)
		go func(bi backend.Instance) {
			defer e.bg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := bi.Stop(ctx); err != nil {
				e.opts.logger.Warn("stop instance", "instance", bi.ID(), "err", err)
			}
		}(in.b)
	}
}

// acquire returns a busy instance for fn: a warm one, or a freshly launched
// one. Launch failures (*backend.InitError, *backend.ExitError, others) are
// returned as they are.
func (e *Engine) acquire(ctx context.Context, fn *Function, key string) (*instance, error) {
	if fn.ReservedConcurrency != nil && *fn.ReservedConcurrency <= 0 {
		return nil, ErrThrottled
	}
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, ErrClosed
		}
		p, stale := e.poolLocked(fn, key)
		if fn.ReservedConcurrency != nil && e.inflightLocked(fn.ARN) >= *fn.ReservedConcurrency {
			// AWS throttles synchronous invocations over the reservation (429),
			// even when an idle instance is at hand.
			e.mu.Unlock()
			e.stopAsync(stale...)
			return nil, ErrThrottled
		}
		if n := len(p.idle); n > 0 {
			in := p.idle[n-1]
			p.idle = p.idle[:n-1]
			if isDone(in.b) {
				// Died while idle: evict and look again.
				e.removeLocked(in)
				e.mu.Unlock()
				e.stopAsync(append(stale, in)...)
				continue
			}
			in.state, in.lastUsed, in.inflight = stateBusy, time.Now(), true
			e.mu.Unlock()
			e.stopAsync(stale...)
			return in, nil
		}
		// With a reservation its check above is the only limit; without one
		// the engine's limit counts the pool's instances, idle ones included.
		if fn.ReservedConcurrency != nil || len(p.insts) < e.opts.maxInstances {
			now := time.Now()
			in := &instance{id: "lamb-" + randomHex(8), pool: p, state: stateStarting, started: now, lastUsed: now, inflight: true}
			p.insts[in] = struct{}{}
			e.mu.Unlock()
			e.stopAsync(stale...)
			return in, e.launch(ctx, fn, key, in)
		}
		wait := e.changed
		e.mu.Unlock()
		e.stopAsync(stale...)
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func isDone(bi backend.Instance) bool {
	select {
	case <-bi.Done():
		return true
	default:
		return false
	}
}

// initTimeout bounds a launch: AWS gives init 10 s of its own, then retries init
// within the function's timeout.
const initTimeout = 10 * time.Second

func (e *Engine) launch(ctx context.Context, fn *Function, key string, in *instance) error {
	spec := &backend.Spec{
		InstanceID: in.id, PoolKey: key, ServerID: e.opts.serverID,
		FunctionName: fn.Name, FunctionARN: fn.ARN, Version: fn.version(),
		PackageType: fn.packageType(), Runtime: fn.Runtime, Handler: fn.Handler, Image: e.imageFor(fn),
		Architecture: fn.architecture(), MemoryMB: fn.memoryMB(), EphemeralStorageMB: fn.EphemeralStorageMB,
		Timeout: fn.timeout(), Env: composeEnv(fn, time.Now()), Code: fn.Code, Layers: fn.Layers,
	}
	if spec.EphemeralStorageMB <= 0 {
		spec.EphemeralStorageMB = defaultStorageMB
	}
	sink, fnCopy := e.opts.logSink, *fn
	spec.Log = func(line []byte) {
		in.appendLog(line)
		if sink != nil {
			sink(&fnCopy, line)
		}
	}
	lctx, cancel := context.WithTimeout(ctx, initTimeout+fn.timeout())
	defer cancel()
	stop := context.AfterFunc(e.closing, cancel)
	defer stop()

	bi, err := e.b.Launch(lctx, spec)
	e.mu.Lock()
	if err != nil {
		e.removeLocked(in)
		e.mu.Unlock()
		if e.closing.Err() != nil {
			return ErrClosed
		}
		if lctx.Err() != nil && ctx.Err() == nil && !isFunctionError(err) {
			return &launchTimeout{err: err}
		}
		return err
	}
	in.b = bi
	_, tracked := in.pool.insts[in]
	if e.closed || in.doomed || !tracked {
		// Closed or evicted while launching.
		e.removeLocked(in)
		e.mu.Unlock()
		e.stopAsync(in)
		if e.closing.Err() != nil {
			return ErrClosed
		}
		return fmt.Errorf("instance evicted while starting: %w", backend.ErrNotDelivered)
	}
	in.state = stateBusy
	e.mu.Unlock()
	return nil
}

func isFunctionError(err error) bool {
	var ie *backend.InitError
	var xe *backend.ExitError
	return errors.As(err, &ie) || errors.As(err, &xe)
}

// launchTimeout is a launch that ran out of time (init exceeded its limit).
type launchTimeout struct{ err error }

func (e *launchTimeout) Error() string { return "init timed out: " + e.err.Error() }
func (e *launchTimeout) Unwrap() error { return e.err }

// release returns a busy instance to its pool, or stops it when it is no
// longer usable (healthy false, its pool retired, the engine closed).
func (e *Engine) release(in *instance, healthy bool) {
	e.mu.Lock()
	_, tracked := in.pool.insts[in]
	if !healthy || !tracked || in.doomed || in.pool.retired || e.closed || isDone(in.b) {
		e.removeLocked(in)
		e.mu.Unlock()
		e.stopAsync(in)
		return
	}
	in.state, in.lastUsed, in.used, in.inflight = stateIdle, time.Now(), true, false
	in.pool.idle = append(in.pool.idle, in)
	e.broadcastLocked()
	e.mu.Unlock()
}

// Stop stops all instances of all versions of fn (matched by ARN), busy ones
// included: their invocations fail.
func (e *Engine) Stop(ctx context.Context, fn *Function) error {
	_, err := e.Evict(ctx, fn)
	return err
}

// Evict is Stop, reporting whether any instance existed.
func (e *Engine) Evict(ctx context.Context, fn *Function) (bool, error) {
	e.mu.Lock()
	var victims []*instance
	for _, p := range e.pools {
		if p.arn != fn.ARN {
			continue
		}
		p.retired = true
		for in := range p.insts {
			in.doomed = true
			victims = append(victims, in)
		}
		p.idle = nil
		for _, in := range victims {
			if in.pool == p && in.state != stateBusy {
				e.removeLocked(in)
			}
		}
		e.dropIfEmptyLocked(p)
	}
	e.mu.Unlock()
	return len(victims) > 0, e.stopAll(ctx, victims)
}

// stopAll stops instances synchronously; busy ones are released by their
// invocation afterwards, which then sees them doomed.
func (e *Engine) stopAll(ctx context.Context, insts []*instance) error {
	var errs []error
	for _, in := range insts {
		if in.b == nil {
			continue // still launching: doomed, stopped when the launch returns
		}
		if err := in.b.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", in.id, err))
		}
	}
	return errors.Join(errs...)
}

// RunCleanup stops instances idle for longer than ttl (the engine's idle TTL
// when ttl <= 0) until ctx ends. It returns ctx's error.
func (e *Engine) RunCleanup(ctx context.Context, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = e.opts.idleTTL
	}
	every := min(max(ttl/4, 5*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			e.stopIdle(time.Now().Add(-ttl))
		}
	}
}

// stopIdle stops idle instances last used before cutoff.
func (e *Engine) stopIdle(cutoff time.Time) {
	e.mu.Lock()
	var old []*instance
	for _, p := range e.pools {
		for _, in := range p.idle {
			if in.lastUsed.Before(cutoff) && !in.provisioned {
				old = append(old, in)
			}
		}
	}
	for _, in := range old {
		e.removeLocked(in)
	}
	e.mu.Unlock()
	e.stopAsync(old...)
}
