//go:build unix

package e2e

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes cmd the leader of a new process group, so that
// killGroup also reaches the processes it starts.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends SIGKILL to every process in the group pgid leads.
func killGroup(pgid int) error { return syscall.Kill(-pgid, syscall.SIGKILL) }

// killPID kills one process with SIGKILL, as a crash would end it.
func killPID(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
