//go:build unix

package bench

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes cmd the leader of a new process group, so that
// signalGroup also reaches the processes it starts.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to every process in the group pgid leads.
func signalGroup(pgid int, sig syscall.Signal) error { return syscall.Kill(-pgid, sig) }

// killPID kills one process with SIGKILL, as a crash would end it.
func killPID(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
