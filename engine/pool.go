package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// A pool holds the instances of one function configuration (see poolKey):
// it hands out idle ones, launches new ones under its limit, takes them back
// after an invocation and stops them when they are no longer wanted. Every
// change of an instance's state goes through its lifecycle (lifecycle.go).
type pool struct {
	key, arn, name, version string
	insts                   map[*instance]struct{} // every instance not retired
	idle                    []*instance            // instances idle, most recently used last
	// retired: the function changed, or Evict or Close: the pool drains and
	// gets no new instances. A pool's own flag, as it outlives its instances
	// (a refill goroutine may still hold it); retirePoolLocked dooms each
	// instance in it, so theirs is a state.
	retired bool
	prov    *provState // provisioned concurrency (provisioned.go); nil if never provisioned
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
				stop = append(stop, e.supersedeLocked(old)...)
			}
		}
	}
	return p, stop
}

// newInstanceLocked adds an instance to p in its first state: instStarting
// (for the invocation that launches it) or instWarming (provisioned).
func (e *Engine) newInstanceLocked(p *pool, first instState) *instance {
	now := time.Now()
	in := &instance{id: "lamb-" + randomHex(8), pool: p, state: first, started: now, lastUsed: now}
	p.insts[in] = struct{}{}
	return in
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
			if in.state.reserved() {
				n++
			}
		}
	}
	return n
}

// retirePoolLocked retires p and dooms every instance in it; the caller
// decides which of them leave the pool at once.
func (e *Engine) retirePoolLocked(p *pool) {
	if p.retired {
		return // its instances were doomed when it retired
	}
	p.retired = true
	for in := range p.insts {
		if err := in.fire(evRetire); err != nil {
			// A pool's instances are live and undoomed until it retires.
			e.opts.logger.Error("retire instance", "err", err)
		}
	}
}

// supersedeLocked retires p for a newer configuration: its idle instances
// are removed and returned for stopping; busy ones stop when released,
// starting ones when their launch returns.
func (e *Engine) supersedeLocked(p *pool) []*instance {
	e.retirePoolLocked(p)
	idle := p.idle
	p.idle = nil
	for _, in := range idle {
		e.removeLocked(in)
	}
	e.dropIfEmptyLocked(p)
	return idle
}

// removeLocked retires in and takes it out of its pool; stopping its backend
// instance is the caller's business.
func (e *Engine) removeLocked(in *instance) {
	if in.fire(evStop) != nil {
		return // retired already (evicted while it started)
	}
	p := in.pool
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
// one (cold: the invocation reports its Init Duration). Launch failures
// (*backend.InitError, *backend.ExitError, others) are returned as they are,
// with the instance that failed to launch (no longer in its pool).
func (e *Engine) acquire(ctx context.Context, fn *Function, key string) (_ *instance, cold bool, _ error) {
	if fn.ReservedConcurrency != nil && *fn.ReservedConcurrency <= 0 {
		return nil, false, ErrThrottled
	}
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, false, ErrClosed
		}
		p, stale := e.poolLocked(fn, key)
		if fn.ReservedConcurrency != nil && e.inflightLocked(fn.ARN) >= *fn.ReservedConcurrency {
			// AWS throttles synchronous invocations over the reservation (429),
			// even when an idle instance is at hand.
			e.mu.Unlock()
			e.stopAsync(stale...)
			return nil, false, ErrThrottled
		}
		if n := len(p.idle); n > 0 {
			in := p.idle[n-1]
			p.idle = p.idle[:n-1]
			// fire cannot refuse: the idle list holds idle instances only, and
			// poolLocked's pool is never retired.
			if isDone(in.b) || in.fire(evAcquire) != nil {
				// Died while idle: evict and look again.
				e.removeLocked(in)
				e.mu.Unlock()
				e.stopAsync(append(stale, in)...)
				continue
			}
			in.lastUsed = time.Now()
			e.mu.Unlock()
			e.stopAsync(stale...)
			return in, false, nil
		}
		// With a reservation its check above is the only limit; without one
		// the engine's limit counts the pool's instances, idle ones included.
		room := fn.ReservedConcurrency != nil || len(p.insts) < e.opts.maxInstances
		debugged := e.debugFor(fn) != nil // no idle instance: the cold path only
		if debugged {
			room = e.debugInstancesLocked(fn) == 0 // one at a time: it holds the debugger's port
		}
		if room {
			in := e.newInstanceLocked(p, instStarting)
			e.mu.Unlock()
			if debugged {
				e.stopNow(stale) // they hold the port the new one listens on
				stale = nil
			}
			// The instances of a superseded configuration (a code update, a
			// hot-reload save) stop once this launch is done: stopping a
			// container while starting another slows both on one engine.
			// They left their pool already, so nothing else gets them.
			err := e.launch(ctx, fn, key, in)
			e.stopAsync(stale...)
			if err != nil {
				return in, true, err // in has left its pool; launchFailure reads its log stream
			}
			return in, true, nil
		}
		wait := e.changed
		e.mu.Unlock()
		e.stopAsync(stale...)
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false, ctx.Err()
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

// specFor is what the backend is asked to launch for fn's instance id.
func (e *Engine) specFor(fn *Function, key, id string) *backend.Spec {
	spec := &backend.Spec{
		InstanceID: id, PoolKey: key, ServerID: e.opts.serverID,
		FunctionName: fn.Name, FunctionARN: fn.ARN, Version: fn.version(),
		PackageType: fn.packageType(), Runtime: fn.Runtime, Handler: fn.Handler, Image: e.imageFor(fn),
		Architecture: fn.architecture(), MemoryMB: fn.memoryMB(), EphemeralStorageMB: fn.EphemeralStorageMB,
		Timeout: fn.timeout(), Env: composeEnv(fn, time.Now()), Code: fn.Code, Layers: fn.Layers,
	}
	if spec.EphemeralStorageMB <= 0 {
		spec.EphemeralStorageMB = defaultStorageMB
	}
	return spec
}

// launch starts in's backend instance. Once it is ready, a starting instance
// is busy for the invocation that waits on it; a warming one joins its pool's
// idle list, watched so that a death is replaced (provisioned.go).
func (e *Engine) launch(ctx context.Context, fn *Function, key string, in *instance) error {
	spec := e.specFor(fn, key, in.id)
	sink, obs, fnCopy := e.opts.logSink, e.opts.observer, *fn
	stream := spec.Env["AWS_LAMBDA_LOG_STREAM_NAME"]
	in.logStream = stream
	spec.Log = func(line []byte) {
		in.appendLog(line)
		if sink != nil {
			sink(&fnCopy, line)
		}
		if obs != nil {
			obs.LogLine(&fnCopy, stream, line)
		}
	}
	e.emitInitStart(fn, stream, spec.Env["AWS_LAMBDA_INITIALIZATION_TYPE"])
	spec.Debug = e.debugFor(fn)
	in.debug = spec.Debug
	limit := initTimeout + fn.timeout()
	if spec.Debug != nil {
		limit = debugRuntimeDeadline // a debugger may hold init at a breakpoint (debug.go)
	}
	lctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	stop := context.AfterFunc(e.closing, cancel)
	defer stop()

	var bi backend.Instance
	err := e.checkHostFolders(fn)
	if err == nil {
		bi, err = e.b.Launch(lctx, spec)
	}
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
	if err := in.fire(evLaunched); err != nil {
		// Doomed (its pool retired, or the engine closed) or evicted while launching.
		e.removeLocked(in)
		e.mu.Unlock()
		e.stopAsync(in)
		if e.closing.Err() != nil {
			return ErrClosed
		}
		return fmt.Errorf("instance evicted while starting: %w", backend.ErrNotDelivered)
	}
	if in.state == instIdle {
		e.watchLocked(in)
		in.lastUsed = time.Now()
		in.pool.idle = append(in.pool.idle, in)
		e.broadcastLocked()
	} else if in.provisioned {
		e.watchLocked(in) // made provisioned while it started (adoptDebugLocked)
	}
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
// longer usable (healthy false, dead, or doomed: its pool retired or the
// engine closed, which fire refuses to release).
func (e *Engine) release(in *instance, healthy bool) {
	e.mu.Lock()
	if !healthy || isDone(in.b) || in.fire(evRelease) != nil {
		e.removeLocked(in)
		e.mu.Unlock()
		e.stopAsync(in)
		return
	}
	in.lastUsed = time.Now()
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
		e.retirePoolLocked(p)
		var gone []*instance
		for in := range p.insts {
			victims = append(victims, in)
			if in.state != instBusyDoomed {
				// Idle, or still launching: its launch finds it retired.
				gone = append(gone, in)
			}
		}
		p.idle = nil
		for _, in := range gone {
			e.removeLocked(in)
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
