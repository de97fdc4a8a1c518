//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is tryLock's error when another process holds the lock.
var errLocked = syscall.EWOULDBLOCK

// tryLock takes an exclusive lock on f without waiting. The kernel drops it
// when the process dies.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

// detachedAttr starts a process in a process group of its own.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
