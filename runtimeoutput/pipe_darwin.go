//go:build !runtimeoutput_fallback

package runtimeoutput

import "golang.org/x/sys/unix"

// fionread is FIONREAD of <sys/filio.h>, _IOR('f', 127, int), which
// golang.org/x/sys/unix does not define for darwin.
const fionread = 0x4004667f

// pipeEmpty reports whether the kernel holds no unread bytes in the pipe.
func (c *Capture) pipeEmpty() bool {
	rc, err := c.r.SyscallConn()
	if err != nil {
		return true // closed: nothing more to read
	}
	var n int
	var ierr error
	cerr := rc.Control(func(fd uintptr) {
		// The kernel writes a C int into IoctlGetInt's zeroed Go int: the
		// right value on darwin's little-endian arm64 and amd64.
		n, ierr = unix.IoctlGetInt(int(fd), fionread)
	})
	if cerr != nil || ierr != nil {
		return true
	}
	return n == 0
}
