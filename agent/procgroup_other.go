//go:build !unix

package agent

import (
	"os"
	"syscall"
)

// groupAttr: no process groups here. The agent runs in Linux containers; this
// builds it elsewhere (lamb's one binary holds the agent mode too).
func groupAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the runtime only: what it started may outlive it.
func killGroup(p *os.Process) error { return p.Kill() }
