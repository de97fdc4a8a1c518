//go:build !unix

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Off Unix there are no process groups or signals. The benchmarks run on
// Linux and darwin; these keep the harness compiling, and vetted, elsewhere.

// ownProcessGroup does nothing.
func ownProcessGroup(*exec.Cmd) {}

// signalGroup kills the leader alone, whatever sig.
func signalGroup(pgid int, _ syscall.Signal) error { return killPID(pgid) }

// killPID kills one process.
func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("find process %d: %w", pid, err)
	}
	return p.Kill()
}
