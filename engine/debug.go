package engine

import (
	"context"
	"strings"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// DebugTarget names a function whose instances run under their runtime's
// debugger (lamb serve --debug FUNCTION[:QUALIFIER]=PORT).
type DebugTarget struct {
	// Function is a function name or an unqualified function ARN (a name
	// matches that function in every account and region).
	Function string
	// Qualifier is a version ("1", "$LATEST"); empty means $LATEST.
	Qualifier string
	Port      int
	Wait      bool // the runtime waits for a debugger before loading the handler
}

// debugRuntimeDeadline is how far ahead of an invocation's start a debugged
// function's runtime is told its deadline: a call paused at a breakpoint must
// not find its context (aws-lambda-go's ctx, remaining time) expired on resume.
const debugRuntimeDeadline = 24 * time.Hour

// WithDebug starts the instances of targets under their runtime's debugger.
// A debugged function (one version) gets one instance at a time, so that
// every call reaches the debugger attached to it; its timeout is suspended
// (the engine ends its calls only when the caller goes away or the instance
// exits) and its init has no time limit either (--debug-wait).
func WithDebug(targets ...DebugTarget) Option {
	return func(o *options) { o.debug = append(o.debug, targets...) }
}

// debugFor returns how fn is debugged, nil when it is not.
func (e *Engine) debugFor(fn *Function) *backend.Debug {
	for _, t := range e.opts.debug {
		q := t.Qualifier
		if q == "" {
			q = "$LATEST"
		}
		if q != fn.version() {
			continue
		}
		if t.Function == fn.Name || (strings.HasPrefix(t.Function, "arn:") && t.Function == fn.ARN) {
			return &backend.Debug{Port: t.Port, Wait: t.Wait}
		}
	}
	return nil
}

// debugInstancesLocked counts fn's instances in every pool of its version,
// retired ones too: one still running holds the debugger's port.
func (e *Engine) debugInstancesLocked(fn *Function) int {
	n, v := 0, fn.version()
	for _, p := range e.pools {
		if p.arn == fn.ARN && p.version == v {
			n += len(p.insts)
		}
	}
	return n
}

// stopNow stops instances before returning (a debugged function's stale
// instances, which hold its debugger's port).
func (e *Engine) stopNow(insts []*instance) {
	for _, in := range insts {
		if in.b == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := in.b.Stop(ctx); err != nil {
			e.opts.logger.Warn("stop instance", "instance", in.b.ID(), "err", err)
		}
		cancel()
	}
}

// adoptDebugLocked makes p's live instance provisioned, if it has one, and
// returns 1 then: a debugged function has one instance at a time, so its
// provisioned concurrency is at most one instance, and an instance that runs
// already (holding the debugger's port, maybe paused at a breakpoint) is
// that one rather than a second launch that could not bind the port.
func (e *Engine) adoptDebugLocked(p *pool) int {
	for in := range p.insts {
		if in.provisioned || in.state.doomed() || (in.b != nil && isDone(in.b)) {
			continue
		}
		in.provisioned = true
		if in.b != nil {
			e.watchLocked(in) // else launch watches it once it is up
		}
		return 1
	}
	return 0
}
