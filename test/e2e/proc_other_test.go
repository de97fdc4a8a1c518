//go:build !unix

package e2e

import (
	"fmt"
	"os"
	"os/exec"
)

// Off Unix there are no process groups or signals. The tests run on Linux
// and darwin; these keep the harness compiling, and vetted, elsewhere.

// ownProcessGroup does nothing.
func ownProcessGroup(*exec.Cmd) {}

// killGroup kills the leader alone.
func killGroup(pgid int) error { return killPID(pgid) }

// killPID kills one process.
func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("find process %d: %w", pid, err)
	}
	return p.Kill()
}
