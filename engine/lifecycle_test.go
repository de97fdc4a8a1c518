package engine

import (
	"errors"
	"testing"
)

var (
	allStates = []instState{instStarting, instWarming, instIdle, instBusy,
		instStartingDoomed, instWarmingDoomed, instIdleDoomed, instBusyDoomed, instRetired}
	allEvents = []instEvent{evLaunched, evAcquire, evRelease, evRetire, evStop}
)

// TestLifecycleTransitions states every allowed move once more, by hand, and
// checks fire against it for every state and event: the listed moves land
// where they say, all others are refused and leave the instance as it was.
func TestLifecycleTransitions(t *testing.T) {
	type move struct {
		from instState
		ev   instEvent
	}
	allowed := map[move]instState{
		{instStarting, evLaunched}: instBusy,
		{instStarting, evRetire}:   instStartingDoomed,
		{instStarting, evStop}:     instRetired,

		{instWarming, evLaunched}: instIdle,
		{instWarming, evRetire}:   instWarmingDoomed,
		{instWarming, evStop}:     instRetired,

		{instIdle, evAcquire}: instBusy,
		{instIdle, evRetire}:  instIdleDoomed,
		{instIdle, evStop}:    instRetired,

		{instBusy, evRelease}: instIdle,
		{instBusy, evRetire}:  instBusyDoomed,
		{instBusy, evStop}:    instRetired,

		{instStartingDoomed, evStop}: instRetired,
		{instWarmingDoomed, evStop}:  instRetired,
		{instIdleDoomed, evStop}:     instRetired,
		{instBusyDoomed, evStop}:     instRetired,
	}
	for _, st := range allStates {
		for _, ev := range allEvents {
			in := &instance{id: "i", state: st}
			err := in.fire(ev)
			want, ok := allowed[move{st, ev}]
			switch {
			case ok && err != nil:
				t.Errorf("%s on %s: refused (%v), want %s", ev, st, err, want)
			case ok && in.state != want:
				t.Errorf("%s on %s: moved to %s, want %s", ev, st, in.state, want)
			case !ok && !errors.Is(err, errRefused):
				t.Errorf("%s on %s: err %v (moved to %s), want refused", ev, st, err, in.state)
			case !ok && in.state != st:
				t.Errorf("%s on %s: refused but moved to %s", ev, st, in.state)
			}
		}
	}
}

// TestLifecycleSequences walks the lives instances lead, and the moves the
// pool relies on being refused.
func TestLifecycleSequences(t *testing.T) {
	type step struct {
		ev   instEvent
		want instState // where the instance is afterwards
		bad  bool      // fire must refuse ev
	}
	tests := []struct {
		name  string
		first instState
		steps []step
	}{
		{"cold start, warm reuse, idle TTL", instStarting, []step{
			{ev: evLaunched, want: instBusy}, {ev: evRelease, want: instIdle},
			{ev: evAcquire, want: instBusy}, {ev: evRelease, want: instIdle},
			{ev: evStop, want: instRetired},
		}},
		{"provisioned: ready without an invocation", instWarming, []step{
			{ev: evLaunched, want: instIdle}, {ev: evAcquire, want: instBusy},
			{ev: evRelease, want: instIdle},
		}},
		{"launch fails", instStarting, []step{
			{ev: evStop, want: instRetired},
		}},
		{"reset after a failed invocation", instStarting, []step{
			{ev: evLaunched, want: instBusy}, {ev: evStop, want: instRetired},
			{ev: evRelease, want: instRetired, bad: true},
		}},
		{"configuration changes while busy: stops at release", instIdle, []step{
			{ev: evAcquire, want: instBusy}, {ev: evRetire, want: instBusyDoomed},
			{ev: evRelease, want: instBusyDoomed, bad: true}, {ev: evStop, want: instRetired},
		}},
		{"configuration changes while starting: stops when launched", instStarting, []step{
			{ev: evRetire, want: instStartingDoomed},
			{ev: evLaunched, want: instStartingDoomed, bad: true}, {ev: evStop, want: instRetired},
		}},
		{"provisioned launch outlived by its pool", instWarming, []step{
			{ev: evRetire, want: instWarmingDoomed},
			{ev: evLaunched, want: instWarmingDoomed, bad: true}, {ev: evStop, want: instRetired},
		}},
		{"evicted while starting: launch completes after retirement", instStarting, []step{
			{ev: evStop, want: instRetired},
			{ev: evLaunched, want: instRetired, bad: true},
			{ev: evStop, want: instRetired, bad: true}, // removing twice is a no-op for the pool
		}},
		{"Close leaves an idle instance doomed", instWarming, []step{
			{ev: evLaunched, want: instIdle}, {ev: evRetire, want: instIdleDoomed},
			{ev: evAcquire, want: instIdleDoomed, bad: true}, {ev: evStop, want: instRetired},
		}},
		{"release of an idle instance", instIdle, []step{
			{ev: evRelease, want: instIdle, bad: true},
		}},
		{"acquire of a busy instance", instIdle, []step{
			{ev: evAcquire, want: instBusy}, {ev: evAcquire, want: instBusy, bad: true},
		}},
		{"acquire of a retired instance", instIdle, []step{
			{ev: evStop, want: instRetired}, {ev: evAcquire, want: instRetired, bad: true},
		}},
		{"acquire or release while starting", instStarting, []step{
			{ev: evAcquire, want: instStarting, bad: true}, {ev: evRelease, want: instStarting, bad: true},
		}},
		{"launched twice", instStarting, []step{
			{ev: evLaunched, want: instBusy}, {ev: evLaunched, want: instBusy, bad: true},
		}},
		{"a pool retires once", instBusy, []step{
			{ev: evRetire, want: instBusyDoomed}, {ev: evRetire, want: instBusyDoomed, bad: true},
		}},
		{"retire after retirement", instIdle, []step{
			{ev: evStop, want: instRetired}, {ev: evRetire, want: instRetired, bad: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &instance{id: "i", state: tt.first}
			for i, s := range tt.steps {
				from := in.state
				err := in.fire(s.ev)
				if s.bad != (err != nil) {
					t.Fatalf("step %d: %s on %s: err %v, want refused %v", i, s.ev, from, err, s.bad)
				}
				if err != nil && !errors.Is(err, errRefused) {
					t.Fatalf("step %d: %s on %s: err %v does not wrap errRefused", i, s.ev, from, err)
				}
				if in.state != s.want {
					t.Fatalf("step %d: %s on %s: now %s, want %s", i, s.ev, from, in.state, s.want)
				}
			}
		})
	}
}

// TestLifecycleDerived checks what the engine reads off a state in place of
// the flags it replaced: the listing's State, inflight (reserved), doomed.
func TestLifecycleDerived(t *testing.T) {
	tests := []struct {
		st                          instState
		label                       string
		reserved, doomed, launching bool
	}{
		{instStarting, stateStarting, true, false, true},
		{instWarming, stateStarting, false, false, true},
		{instIdle, stateIdle, false, false, false},
		{instBusy, stateBusy, true, false, false},
		{instStartingDoomed, stateStarting, true, true, true},
		{instWarmingDoomed, stateStarting, false, true, true},
		{instIdleDoomed, stateIdle, false, true, false},
		{instBusyDoomed, stateBusy, true, true, false},
		{instRetired, stateRetired, false, false, false},
	}
	if len(tests) != len(allStates) {
		t.Fatalf("%d states tested, %d exist", len(tests), len(allStates))
	}
	for _, tt := range tests {
		if got := tt.st.label(); got != tt.label {
			t.Errorf("%s: label %q, want %q", tt.st, got, tt.label)
		}
		if got := tt.st.reserved(); got != tt.reserved {
			t.Errorf("%s: reserved %v, want %v", tt.st, got, tt.reserved)
		}
		if got := tt.st.doomed(); got != tt.doomed {
			t.Errorf("%s: doomed %v, want %v", tt.st, got, tt.doomed)
		}
		if got := tt.st.launching(); got != tt.launching {
			t.Errorf("%s: launching %v, want %v", tt.st, got, tt.launching)
		}
	}
}
