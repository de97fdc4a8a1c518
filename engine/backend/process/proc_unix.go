//go:build linux || darwin

package process

import (
	"errors"

	"golang.org/x/sys/unix"
)

// platformError says why the process backend cannot run here: nil.
func platformError() error { return nil }

// killGroup kills the process group led by pid; one already gone is no error.
func killGroup(pid int) error {
	if err := unix.Kill(-pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	return nil
}

func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
