package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Provisioned concurrency: instances started ahead of any invocation and
// kept warm. They serve invocations like any other instance of their pool
// (one at a time) but RunCleanup never stops them for being idle.
//
// The pool keeps its count, as AWS does: each provisioned instance is
// watched, and one that ends on its own (its runtime exits or crashes, or it
// is killed behind the engine's back) is replaced in the background without
// waiting for an invocation or another Provision. Replacements back off
// exponentially while they keep failing (a launch error, or an instance that
// dies soon after it started), so a function that crashes at init does not
// spin.

// Defaults for replacing dead provisioned instances.
const (
	defaultRefillBackoff      = 100 * time.Millisecond // wait after the second failure in a row
	defaultRefillMaxBackoff   = 30 * time.Second
	defaultRefillHealthyAfter = 10 * time.Second // an instance that lived this long died of old age, not a crash loop
)

// provState is a pool's provisioned concurrency; guarded by Engine.mu.
type provState struct {
	want      int       // instances to keep provisioned
	fn        *Function // the configuration replacements are launched with
	refilling bool      // a refill goroutine runs for the pool
	failures  int       // replacements failed in a row (launch errors, early deaths)
}

// Provision makes n instances of fn's current configuration provisioned: it
// launches the missing ones and waits until they are ready (or one failed),
// and releases extra ones (idle extras stop; busy extras become ordinary
// instances). From then on the engine replaces provisioned instances that
// die, in the background, until Unprovision, a configuration change, Evict or
// Close. Calling it again with the same n replaces at once the instances
// that died and resets the replacement backoff. n = 0 is Unprovision.
//
// Provisioned instances count towards the pool's WithMaxInstances limit for
// on-demand launches; towards reserved concurrency only while busy with an
// invocation. Provision itself is limited by neither: the API enforces AWS's
// limits before asking. Errors are launch failures (all of them,
// joined); the instances that did start stay provisioned.
func (e *Engine) Provision(ctx context.Context, fn *Function, n int) error {
	if n < 0 {
		return fmt.Errorf("engine: provision %d instances: count must not be negative", n)
	}
	key := poolKey(fn)
	debugged := e.debugFor(fn) != nil
	if debugged && n > 1 {
		e.opts.logger.Info("debugged function: one provisioned instance (one instance at a time)", "function", fn.ARN, "version", fn.version(), "requested", n)
		n = 1 // debug.go
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	if cur := e.pools[key]; n == 0 && (cur == nil || cur.retired) {
		// Nothing provisioned to release. Making a pool here would retire
		// the pools of the function's newer configuration.
		e.mu.Unlock()
		return nil
	}
	p, stale := e.poolLocked(fn, key)
	if p.prov == nil {
		p.prov = &provState{}
	}
	fnCopy := *fn
	p.prov.want, p.prov.fn, p.prov.failures = n, &fnCopy, 0
	have := provisionedLocked(p, false)
	if debugged && have < n {
		have += e.adoptDebugLocked(p) // debug.go
	}
	var launches, stop []*instance
	for ; have < n; have++ {
		launches = append(launches, e.newProvisionedLocked(p))
	}
	if extra := have - n; extra > 0 {
		for _, in := range append([]*instance(nil), p.idle...) {
			if extra == 0 {
				break
			}
			if in.provisioned {
				in.provisioned = false // stopped on purpose: not to be replaced
				e.removeLocked(in)
				stop = append(stop, in)
				extra--
			}
		}
		for in := range p.insts {
			if extra == 0 {
				break
			}
			if in.provisioned {
				in.provisioned = false // busy or starting: an ordinary instance from now on
				extra--
			}
		}
	}
	e.mu.Unlock()
	if debugged {
		e.stopNow(stale) // they hold the port the new one listens on
		stale = nil
	}
	e.stopAsync(append(stale, stop...)...)
	return e.launchProvisioned(ctx, fn, key, launches)
}

// newProvisionedLocked adds a warming provisioned instance to p.
func (e *Engine) newProvisionedLocked(p *pool) *instance {
	in := e.newInstanceLocked(p, instWarming)
	in.provisioned = true
	return in
}

// launchProvisioned launches instances made by newProvisionedLocked (launch
// puts the ones that start in their pool's idle list and watches them). It
// waits for every launch and returns their errors, joined.
func (e *Engine) launchProvisioned(ctx context.Context, fn *Function, key string, launches []*instance) error {
	errs := make([]error, len(launches))
	var wg sync.WaitGroup
	for i, in := range launches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.launch(ctx, fn, key, in); err != nil {
				errs[i] = fmt.Errorf("provision %s: %w", in.id, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// provisionedLocked counts p's provisioned instances that are alive
// (starting ones too unless readyOnly).
func provisionedLocked(p *pool, readyOnly bool) int {
	n := 0
	for in := range p.insts {
		if !in.provisioned || in.state.doomed() || (in.b != nil && isDone(in.b)) {
			continue
		}
		if readyOnly && in.state.launching() {
			continue
		}
		n++
	}
	return n
}

// watchLocked starts the goroutine that notices when in ends. It is owned by
// the engine: it ends with the instance or when Close begins, and Close waits
// for it.
func (e *Engine) watchLocked(in *instance) {
	if e.closed || in.b == nil {
		return
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		select {
		case <-in.b.Done():
			e.instanceEnded(in)
		case <-e.closing.Done():
		}
	}()
}

// instanceEnded evicts a provisioned instance that ended (if it was idle;
// a busy one is evicted by its invocation) and has it replaced while its
// pool still wants it.
func (e *Engine) instanceEnded(in *instance) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	p := in.pool
	var stop []*instance
	if in.state == instIdle {
		e.removeLocked(in)
		stop = append(stop, in) // frees what the backend still holds for it
	}
	if in.provisioned && !in.state.doomed() && !p.retired && p.prov != nil && p.prov.want > 0 {
		if time.Since(in.started) < e.opts.refillHealthyAfter {
			p.prov.failures++
		} else {
			p.prov.failures = 0
		}
		e.opts.logger.Warn("provisioned instance ended; replacing it",
			"function", p.arn, "version", p.version, "instance", in.id, "failures", p.prov.failures)
		e.refillLocked(p)
	}
	e.mu.Unlock()
	e.stopAsync(stop...)
}

// refillLocked starts p's refill goroutine unless one runs.
func (e *Engine) refillLocked(p *pool) {
	if e.closed || p.prov.refilling {
		return
	}
	p.prov.refilling = true
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		e.refill(p)
	}()
}

// refill launches provisioned instances until p has as many as it wants,
// waiting before each round as refillDelay says. It ends when nothing is
// missing, the pool is retired or unprovisioned, or the engine closes.
// Deciding to end and clearing refilling happen under one lock, so a death
// noticed afterwards starts a new refill.
func (e *Engine) refill(p *pool) {
	for {
		e.mu.Lock()
		missing := e.missingLocked(p)
		if missing <= 0 {
			p.prov.refilling = false
			e.mu.Unlock()
			return
		}
		delay := e.refillDelay(p.prov.failures)
		e.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-e.closing.Done():
				t.Stop()
			}
		}

		e.mu.Lock()
		var launches []*instance
		for range e.missingLocked(p) {
			launches = append(launches, e.newProvisionedLocked(p))
		}
		fn := p.prov.fn
		e.mu.Unlock()
		if len(launches) == 0 {
			continue // the loop's check ends it
		}
		err := e.launchProvisioned(e.closing, fn, p.key, launches)
		if err == nil {
			continue
		}
		e.mu.Lock()
		failed := 0
		for _, in := range launches {
			if in.b == nil {
				failed++
			}
		}
		p.prov.failures += failed
		failures := p.prov.failures
		e.mu.Unlock()
		if e.closing.Err() == nil {
			e.opts.logger.Warn("replace provisioned instances", "function", p.arn, "version", p.version,
				"failures", failures, "err", err)
		}
	}
}

// missingLocked is how many provisioned instances p lacks (0 once it needs
// no refilling: retired, unprovisioned, or the engine closed).
func (e *Engine) missingLocked(p *pool) int {
	if e.closed || p.retired || p.prov == nil {
		return 0
	}
	return p.prov.want - provisionedLocked(p, false)
}

// refillDelay is the wait before a refill round after failures failed
// replacements in a row: none for a first death, then exponential.
func (e *Engine) refillDelay(failures int) time.Duration {
	if failures <= 1 {
		return 0
	}
	d := e.opts.refillBackoff
	for i := 2; i < failures && d < e.opts.refillMaxBackoff; i++ {
		d *= 2
	}
	return min(d, e.opts.refillMaxBackoff)
}

// Unprovision releases fn's provisioned instances (see Provision with n = 0).
func (e *Engine) Unprovision(ctx context.Context, fn *Function) error {
	return e.Provision(ctx, fn, 0)
}

// Provisioned reports how many provisioned instances of fn's current
// configuration are ready (idle or busy, not starting). Instances that died
// and are not yet replaced are not counted.
func (e *Engine) Provisioned(fn *Function) int {
	key := poolKey(fn)
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[key]
	if p == nil {
		return 0
	}
	return provisionedLocked(p, true)
}
