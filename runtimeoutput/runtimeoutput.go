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
// That exactness needs a pollable pipe and FIONREAD: Linux and macOS have
// both. Elsewhere (Windows) the reader blocks in Read, and Take counts the
// output complete once the reader has waited there, with everything before
// processed, for a short settle time (see read_other.go).
//
// Both lamb's process backend and the in-sandbox agent use it.
package runtimeoutput

import (
	"bytes"
	"os"
	"sync"
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

// LastOutput waits until Run returned and returns the last MaxCapture bytes
// of all output (for exit and init errors).
func (c *Capture) LastOutput() []byte {
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.tail)
}
