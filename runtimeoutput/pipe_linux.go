//go:build !runtimeoutput_fallback

package runtimeoutput

import (
	"syscall"
	"unsafe"
)

// pipeEmpty reports whether the kernel holds no unread bytes in the pipe.
func (c *Capture) pipeEmpty() bool {
	rc, err := c.r.SyscallConn()
	if err != nil {
		return true // closed: nothing more to read
	}
	var n int32
	var errno syscall.Errno
	cerr := rc.Control(func(fd uintptr) {
		// TIOCINQ is FIONREAD on Linux.
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	if cerr != nil || errno != 0 {
		return true
	}
	return n == 0
}
