// Package runtimeoutput captures a Lambda runtime's output: its stdout and
// stderr (one pipe, so their order is kept) read line by line, every line
// handed to a sink, and the lines written while an invocation runs collected
// for that invocation's log.
//
// # Knowing an invocation's output is complete
//
// A runtime writes its output before it posts its answer, but the reader may
// not have consumed it yet when the answer arrives. Take hands over an
// invocation's complete output without sleeping: it waits until the reader is
// parked in the poller having processed everything it read, and the kernel
// reports no unread bytes in the pipe (FIONREAD). Output written after the
// answer belongs to whoever looks next (the next invocation, or the tail).
//
// Both lamb's process backend and the in-sandbox agent use it.
package runtimeoutput

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

const (
	// MaxCapture bounds what is kept of an invocation's output and of the
	// tail: the last 64 KiB.
	MaxCapture = 64 << 10
	// MaxLine bounds one line handed to the sink; a longer one is split.
	MaxLine = 256 << 10
)

// Capture reads one pipe. Create it with New, run Run in a goroutine that its
// owner waits for, and use Begin/Take around each invocation. Its methods are
// safe for concurrent use.
type Capture struct {
	r    *os.File
	sink func(line []byte, seq uint64)

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever the reader makes progress
	parked   bool          // the reader waits for more, everything before processed
	eof      bool
	seq      uint64
	partial  []byte // an unterminated line
	capture  bool
	captured []byte
	tail     []byte // the last MaxCapture bytes of all output
	done     chan struct{}
}

// New returns a Capture reading r, the read end of a pipe made by os.Pipe
// (pollable). sink receives every line, without its newline, with its
// sequence number (1, 2, ...); calls are serialised and line is only valid
// during the call. sink may be nil. New starts nothing: call Run.
func New(r *os.File, sink func(line []byte, seq uint64)) *Capture {
	if sink == nil {
		sink = func([]byte, uint64) {}
	}
	return &Capture{r: r, sink: sink, changed: make(chan struct{}), done: make(chan struct{})}
}

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

// Done is closed once Run returned.
func (c *Capture) Done() <-chan struct{} { return c.done }

func (c *Capture) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked()
	c.eof = true
	c.notifyLocked()
}

func (c *Capture) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Capture) consumeLocked(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			c.partial = append(c.partial, b...)
			if len(c.partial) >= MaxLine {
				c.flushLocked()
			}
			return
		}
		if len(c.partial) > 0 {
			c.partial = append(c.partial, b[:i]...)
			c.flushLocked()
		} else {
			c.lineLocked(b[:i])
		}
		b = b[i+1:]
	}
}

// flushLocked delivers an unterminated line as a line.
func (c *Capture) flushLocked() {
	if len(c.partial) > 0 {
		c.lineLocked(c.partial)
		c.partial = c.partial[:0]
	}
}

// lineLocked delivers one line. The sink is called under the lock, which
// serialises its calls.
func (c *Capture) lineLocked(line []byte) {
	c.seq++
	c.sink(line, c.seq)
	if c.capture {
		c.captured = appendTail(c.captured, line)
	}
	c.tail = appendTail(c.tail, line)
}

func appendTail(buf, line []byte) []byte {
	buf = append(buf, line...)
	buf = append(buf, '\n')
	if over := len(buf) - MaxCapture; over > 0 {
		buf = append(buf[:0], buf[over:]...)
	}
	return buf
}

// Begin starts capturing an invocation's output, dropping any earlier capture.
func (c *Capture) Begin() {
	c.mu.Lock()
	c.capture, c.captured = true, nil
	c.mu.Unlock()
}

// Take waits until everything written to the pipe so far has been read, ends
// the capture and returns it (each line with its newline, the last MaxCapture
// bytes) with the sequence number of the last line read. An unterminated last
// line is flushed as a line. Without Begin the capture is empty.
func (c *Capture) Take() (log []byte, seq uint64) {
	for {
		c.mu.Lock()
		if c.eof || (c.parked && c.pipeEmpty()) {
			c.flushLocked()
			log, seq = c.captured, c.seq
			c.capture, c.captured = false, nil
			c.mu.Unlock()
			return log, seq
		}
		wait := c.changed
		c.mu.Unlock()
		<-wait // the reader is running: it parks again or ends soon
	}
}

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

// LastOutput waits until Run returned and returns the last MaxCapture bytes
// of all output (for exit and init errors).
func (c *Capture) LastOutput() []byte {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.tail)
}
