// Package testenv says what lamb's tests need from the machine. A missing
// interpreter, client, engine or data file skips a test with a clear message on
// a developer's machine and fails it under CI=true, where .ci/run has installed
// everything: CI never passes by silently skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Need skips t (fails it under CI=true) unless ok; what names the missing piece.
func Need(t testing.TB, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true (see .ci/run)", what)
	}
	t.Skipf("skipping: %s is not available on this machine", what)
}

// LookPath returns the path of the program name, as Need would have it.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, name+" (on PATH)", err == nil)
	return p
}
