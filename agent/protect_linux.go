package agent

import (
	"fmt"
	"syscall"
)

// protectProcess makes the agent not dumpable. The runtime runs as the
// agent's user, and a process may read /proc/<pid>/environ and mem of any
// dumpable process of its own user: the agent's initial environment holds
// the secret even after Unsetenv. A process that is not dumpable can be read
// only with CAP_SYS_PTRACE, which no process in a sandbox has. The runtime
// is dumpable again: execve resets the flag.
func protectProcess() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", errno)
	}
	return nil
}
