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

// Provision makes n instances of fn's current configuration provisioned: it
// launches the missing ones and waits until they are ready (or one failed),
// and releases extra ones (idle extras stop; busy extras become ordinary
// instances). Calling it again with the same n replaces provisioned
// instances that died. n = 0 is Unprovision.
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
	have := 0
	for in := range p.insts {
		if in.provisioned && !in.doomed {
			have++
		}
	}
	var launches, stop []*instance
	for ; have < n; have++ {
		now := time.Now()
		in := &instance{id: "lamb-" + randomHex(8), pool: p, state: stateStarting, started: now, lastUsed: now, provisioned: true}
		p.insts[in] = struct{}{}
		launches = append(launches, in)
	}
	if extra := have - n; extra > 0 {
		for _, in := range append([]*instance(nil), p.idle...) {
			if extra == 0 {
				break
			}
			if in.provisioned {
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
	e.stopAsync(append(stale, stop...)...)

	errs := make([]error, len(launches))
	var wg sync.WaitGroup
	for i, in := range launches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.launch(ctx, fn, key, in); err != nil {
				errs[i] = fmt.Errorf("provision %s: %w", in.id, err)
				return
			}
			e.release(in, true)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Unprovision releases fn's provisioned instances (see Provision with n = 0).
func (e *Engine) Unprovision(ctx context.Context, fn *Function) error {
	return e.Provision(ctx, fn, 0)
}

// Provisioned reports how many provisioned instances of fn's current
// configuration are ready (idle or busy, not starting).
func (e *Engine) Provisioned(fn *Function) int {
	key := poolKey(fn)
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[key]
	if p == nil {
		return 0
	}
	n := 0
	for in := range p.insts {
		if in.provisioned && !in.doomed && in.state != stateStarting {
			n++
		}
	}
	return n
}
