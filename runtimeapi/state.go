package runtimeapi

import (
	"errors"
	"fmt"
)

// ErrNotAllowed is returned (wrapped) by a transition the current state does not allow.
var ErrNotAllowed = errors.New("state transition not allowed")

// state is where one sandbox's runtime stands in the protocol.
type state int

const (
	stateInit       state = iota // runtime starting; nothing polled yet
	stateIdle                    // runtime ready: it may long-poll /next
	stateInvoking                // invocation handed out by /next; waiting for /response or /error
	stateResponding              // a /response body is being received
	stateInitFailed              // runtime posted /init/error; it is expected to exit
	stateClosed                  // Server.Close was called
)

func (s state) String() string {
	switch s {
	case stateInit:
		return "Init"
	case stateIdle:
		return "Idle"
	case stateInvoking:
		return "Invoking"
	case stateResponding:
		return "Responding"
	case stateInitFailed:
		return "InitFailed"
	case stateClosed:
		return "Closed"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// event is one thing that can happen to the runtime's state.
type event int

const (
	eventNext         event = iota // runtime called GET /next
	eventDeliver                   // an invocation was handed to a /next poller
	eventResponse                  // runtime started POST /response
	eventResponseDone              // the /response body ended (or was refused)
	eventError                     // runtime posted /invocation/{id}/error
	eventInitError                 // runtime posted /init/error
	eventClose                     // the server closed
)

func (e event) String() string {
	switch e {
	case eventNext:
		return "InvocationNext"
	case eventDeliver:
		return "Deliver"
	case eventResponse:
		return "InvocationResponse"
	case eventResponseDone:
		return "InvocationResponseDone"
	case eventError:
		return "InvocationError"
	case eventInitError:
		return "InitError"
	case eventClose:
		return "Close"
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// transitions lists each state's legal moves; anything missing is denied. eventClose is legal
// everywhere and handled in fire.
var transitions = map[state]map[event]state{
	stateInit: {
		eventNext:      stateIdle,
		eventInitError: stateInitFailed,
	},
	stateIdle: {
		eventNext:    stateIdle, // another poll while waiting (e.g. a reconnect) is fine
		eventDeliver: stateInvoking,
	},
	stateInvoking: {
		eventResponse: stateResponding,
		eventError:    stateIdle,
	},
	stateResponding: {
		eventResponseDone: stateIdle,
	},
}

// machine is the state machine; callers hold Server.mu around every call.
type machine struct {
	cur state
}

// fire moves the machine on ev, or returns an error wrapping ErrNotAllowed and leaves it as is.
func (m *machine) fire(ev event) error {
	if ev == eventClose {
		m.cur = stateClosed
		return nil
	}
	if err := m.check(ev); err != nil {
		return err
	}
	m.cur = transitions[m.cur][ev]
	return nil
}

// check returns the error fire would return for ev, without moving.
func (m *machine) check(ev event) error {
	if ev == eventClose {
		return nil
	}
	if _, ok := transitions[m.cur][ev]; !ok {
		return fmt.Errorf("%w: %s in state %s", ErrNotAllowed, ev, m.cur)
	}
	return nil
}
