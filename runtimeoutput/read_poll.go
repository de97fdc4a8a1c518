//go:build (linux || darwin) && !runtimeoutput_fallback

package runtimeoutput

import "syscall"

// Run reads until EOF, that is until every writer (usually the runtime's
// whole process group) is gone, then closes r and Done. Its caller owns it and
// must wait for it (Done).
//
// It reads through the raw connection so that "parked" is exact: it is set
// only when a read found the pipe empty with everything read before already
// processed, and cleared (under the lock Take holds) before the next read.
func (c *Capture) Run() {
	defer close(c.done)
	defer c.r.Close()
	buf := make([]byte, 32<<10)
	rc, err := c.r.SyscallConn()
	if err != nil {
		c.finish()
		return
	}
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			c.mu.Lock()
			c.parked = false
			c.mu.Unlock()
			n, rerr = syscall.Read(int(fd), buf)
			if rerr == syscall.EAGAIN {
				c.mu.Lock()
				c.parked = true
				c.notifyLocked()
				c.mu.Unlock()
				return false // wait in the poller for more
			}
			return true
		})
		if rerr == syscall.EINTR {
			continue
		}
		if err != nil || rerr != nil || n <= 0 {
			c.finish()
			return
		}
		c.mu.Lock()
		c.consumeLocked(buf[:n])
		c.notifyLocked()
		c.mu.Unlock()
	}
}
