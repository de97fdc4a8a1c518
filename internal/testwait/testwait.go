// Package testwait is lamb's one helper for tests that wait for something to
// happen in the background (an instance to stop, a container to be removed):
// it polls a condition instead of sleeping a guessed time.
package testwait

import (
	"testing"
	"time"
)

// Timeout is how long For waits. It is generous because it only matters when
// a test is failing anyway, and tests run under -race on loaded machines.
const Timeout = 30 * time.Second

// The first polls come quickly, so that conditions that hold within
// milliseconds (most of the engine's) cost little; later ones back off, so
// that a slow condition (a container engine's API) is not hammered.
const (
	firstPoll = time.Millisecond
	maxPoll   = 25 * time.Millisecond
)

// For polls cond until it holds, failing t (naming what it waited for) after
// Timeout.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Timeout, what, cond)
}

// Within is For with its own deadline, for waits known to be long (a queue
// draining after a restart).
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

// poll reports whether cond held within d.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for wait := firstPoll; !cond(); wait = min(2*wait, maxPoll) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
	return true
}
