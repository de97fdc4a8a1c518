//go:build unix

package agent

import (
	"os"
	"syscall"
)

// groupAttr starts the runtime in a process group of its own.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the runtime's process group: whatever it started too.
func killGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
