package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// An instance's life is a state machine, as the Runtime API's is
// (runtimeapi/state.go): the table below lists every move, and fire, the only
// place an instance changes state, refuses the rest. The pool (pool.go)
// decides which event happens; the table decides what it leads to.
//
// An instance begins starting (launched for the invocation that waits on it)
// or warming (launched ahead of any, for provisioned concurrency). When its
// pool retires (its function's configuration changed, Evict, Close) each
// instance moves to the doomed twin of its state: it finishes what it is doing
// (a launch, an invocation) and then stops instead of serving again. Retired
// is the end: the instance has left its pool and its backend instance is
// stopping or stopped.

// errRefused is returned (wrapped) for an event the instance's state does not allow.
var errRefused = errors.New("instance state transition not allowed")

// instState is where an instance stands in its life.
type instState int

const (
	instStarting       instState = iota // launching for the invocation that waits on it
	instWarming                         // launching ahead of any invocation (provisioned)
	instIdle                            // ready, in its pool's idle list
	instBusy                            // serving one invocation, from acquire to release
	instStartingDoomed                  // pool retired while starting: stops when its launch returns
	instWarmingDoomed                   // pool retired while warming: stops when its launch returns
	instIdleDoomed                      // pool retired while idle: stops (only Close leaves one in its pool)
	instBusyDoomed                      // pool retired while busy: stops when its invocation releases it
	instRetired                         // left its pool; its backend instance is stopping or stopped
)

func (s instState) String() string {
	switch s {
	case instStarting:
		return "Starting"
	case instWarming:
		return "Warming"
	case instIdle:
		return "Idle"
	case instBusy:
		return "Busy"
	case instStartingDoomed:
		return "StartingDoomed"
	case instWarmingDoomed:
		return "WarmingDoomed"
	case instIdleDoomed:
		return "IdleDoomed"
	case instBusyDoomed:
		return "BusyDoomed"
	case instRetired:
		return "Retired"
	}
	return fmt.Sprintf("instState(%d)", int(s))
}

// What Instances reports as an instance's State.
const (
	stateStarting = "starting"
	stateIdle     = "idle"
	stateBusy     = "busy"
	stateRetired  = "retired" // never listed: a retired instance is no longer in a pool
)

// label is s as Instances reports it: a doomed instance is still doing what it did.
func (s instState) label() string {
	switch s {
	case instStarting, instWarming, instStartingDoomed, instWarmingDoomed:
		return stateStarting
	case instIdle, instIdleDoomed:
		return stateIdle
	case instBusy, instBusyDoomed:
		return stateBusy
	}
	return stateRetired
}

// reserved reports whether an invocation holds the instance (starting for it
// or busy with it): reserved concurrency counts these.
func (s instState) reserved() bool {
	switch s {
	case instStarting, instBusy, instStartingDoomed, instBusyDoomed:
		return true
	}
	return false
}

// launching reports whether the backend's launch has not returned yet.
func (s instState) launching() bool { return s.label() == stateStarting }

// doomed reports whether the instance's pool retired while it was in it.
func (s instState) doomed() bool {
	switch s {
	case instStartingDoomed, instWarmingDoomed, instIdleDoomed, instBusyDoomed:
		return true
	}
	return false
}

// instEvent is one thing that can happen to an instance.
type instEvent int

const (
	evLaunched instEvent = iota // the backend's launch returned a ready instance
	evAcquire                   // an invocation takes the idle instance
	evRelease                   // the invocation is done and the instance can serve again
	evRetire                    // the instance's pool retired
	evStop                      // the instance leaves its pool: launch failed, reset, evicted, reaped, dead
)

func (e instEvent) String() string {
	switch e {
	case evLaunched:
		return "Launched"
	case evAcquire:
		return "Acquire"
	case evRelease:
		return "Release"
	case evRetire:
		return "Retire"
	case evStop:
		return "Stop"
	}
	return fmt.Sprintf("instEvent(%d)", int(e))
}

// lifecycle lists each state's legal moves; anything missing is refused.
// Retired has none. A pool retires once, so a doomed instance refuses Retire.
var lifecycle = map[instState]map[instEvent]instState{
	instStarting: {
		evLaunched: instBusy, // the waiting invocation has it
		evRetire:   instStartingDoomed,
		evStop:     instRetired, // launch failed, or Evict while it starts
	},
	instWarming: {
		evLaunched: instIdle, // nobody waits for it
		evRetire:   instWarmingDoomed,
		evStop:     instRetired,
	},
	instIdle: {
		evAcquire: instBusy,
		evRetire:  instIdleDoomed,
		evStop:    instRetired, // idle TTL, died while idle, evicted, unprovisioned
	},
	instBusy: {
		evRelease: instIdle,
		evRetire:  instBusyDoomed,
		evStop:    instRetired, // reset after a failure, or died
	},
	instStartingDoomed: {evStop: instRetired},
	instWarmingDoomed:  {evStop: instRetired},
	instIdleDoomed:     {evStop: instRetired},
	instBusyDoomed:     {evStop: instRetired},
}

// instance is one sandbox of a pool.
type instance struct {
	id       string
	pool     *pool
	b        backend.Instance // nil until its launch returned
	state    instState        // changed by fire only
	started  time.Time
	lastUsed time.Time
	// provisioned instances (provisioned.go) are kept warm: never idle-reaped,
	// replaced when they die. It is a property, not a state: it changes what
	// the engine does about the instance, not what the instance can do next
	// (it serves invocations like any other), and Provision can take it away
	// in any state.
	provisioned bool
	log         lineLog
	logStream   string         // AWS_LAMBDA_LOG_STREAM_NAME; set by launch before the backend's Launch
	debug       *backend.Debug // its spec's (debug.go); set by launch before the backend's Launch
}

// fire moves in on ev, or returns an error wrapping errRefused and leaves it
// as it is. Callers hold Engine.mu.
func (in *instance) fire(ev instEvent) error {
	next, ok := lifecycle[in.state][ev]
	if !ok {
		return fmt.Errorf("instance %s: %w: %s when %s", in.id, errRefused, ev, in.state)
	}
	in.state = next
	return nil
}
