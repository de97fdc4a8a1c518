package process

import (
	"bytes"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// maxCapture bounds what is kept of an invocation's output (its last 64 KiB),
// and maxLine the length of one line handed to the log callback.
const (
	maxCapture = 64 << 10
	maxLine    = 256 << 10
)

// output reads the runtime's stdout and stderr (one pipe, so their order is
// kept) line by line. Each line goes to the spec's Log callback and, while an
// invocation is being captured, to that invocation's buffer.
//
// The runtime writes its output before it posts its response; to hand an
// invocation's complete output over without sleeping, take() waits until the
// reader has consumed everything in the pipe: the reader is parked waiting for
// more and the kernel reports zero unread bytes (FIONREAD).
type output struct {
	r    *os.File
	sink func([]byte)

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever the reader makes progress
	parked   bool          // the reader is waiting in Read with everything before processed
	eof      bool
	partial  []byte // an unterminated line
	capture  bool
	captured []byte
	tail     []byte // the last 64 KiB of all output (for exit and init errors)
	done     chan struct{}
}

func newOutput(r *os.File, sink func([]byte)) *output {
	if sink == nil {
		sink = func([]byte) {}
	}
	return &output{r: r, sink: sink, changed: make(chan struct{}), done: make(chan struct{})}
}

// run reads until EOF (every writer, i.e. the whole process group, is gone).
// Its owner is the instance's run goroutine, which waits for it.
//
// It reads through the raw connection so that "parked" is exact: it is set
// only when a read found the pipe empty with everything read before already
// processed, and cleared (under the same lock take holds) before the next read.
func (o *output) run() {
	defer close(o.done)
	defer o.r.Close()
	buf := make([]byte, 32<<10)
	rc, err := o.r.SyscallConn()
	if err != nil {
		o.finish()
		return
	}
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			o.mu.Lock()
			o.parked = false
			o.mu.Unlock()
			n, rerr = unix.Read(int(fd), buf)
			if rerr == unix.EAGAIN {
				o.mu.Lock()
				o.parked = true
				o.notifyLocked()
				o.mu.Unlock()
				return false // wait in the poller for more
			}
			return true
		})
		if rerr == unix.EINTR {
			continue
		}
		if err != nil || rerr != nil || n <= 0 {
			o.finish()
			return
		}
		o.mu.Lock()
		o.consumeLocked(buf[:n])
		o.notifyLocked()
		o.mu.Unlock()
	}
}

func (o *output) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.lineLocked(o.partial)
		o.partial = nil
	}
	o.eof = true
	o.notifyLocked()
}

func (o *output) notifyLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *output) consumeLocked(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			o.partial = append(o.partial, b...)
			if len(o.partial) >= maxLine {
				o.lineLocked(o.partial)
				o.partial = o.partial[:0]
			}
			return
		}
		if len(o.partial) > 0 {
			o.partial = append(o.partial, b[:i]...)
			o.lineLocked(o.partial)
			o.partial = o.partial[:0]
		} else {
			o.lineLocked(b[:i])
		}
		b = b[i+1:]
	}
}

// lineLocked delivers one line. The sink is called under the lock, which
// serialises calls as the backend contract requires.
func (o *output) lineLocked(line []byte) {
	o.sink(line)
	if o.capture {
		o.captured = appendTail(o.captured, line)
	}
	o.tail = appendTail(o.tail, line)
}

func appendTail(buf, line []byte) []byte {
	buf = append(buf, line...)
	buf = append(buf, '\n')
	if over := len(buf) - maxCapture; over > 0 {
		buf = append(buf[:0], buf[over:]...)
	}
	return buf
}

// begin starts capturing an invocation's output.
func (o *output) begin() {
	o.mu.Lock()
	o.capture, o.captured = true, nil
	o.mu.Unlock()
}

// take waits until everything written to the pipe so far has been read, ends
// the capture and returns it. An unterminated last line is flushed as a line.
func (o *output) take() []byte {
	for {
		o.mu.Lock()
		if o.eof || (o.parked && o.pipeEmpty()) {
			if len(o.partial) > 0 {
				o.lineLocked(o.partial)
				o.partial = o.partial[:0]
			}
			out := o.captured
			o.capture, o.captured = false, nil
			o.mu.Unlock()
			return out
		}
		wait := o.changed
		o.mu.Unlock()
		<-wait // the reader is running: it parks again or ends soon
	}
}

// pipeEmpty reports whether the kernel holds no unread bytes in the pipe.
func (o *output) pipeEmpty() bool {
	rc, err := o.r.SyscallConn()
	if err != nil {
		return true // closed: nothing more to read
	}
	n := 0
	cerr := rc.Control(func(fd uintptr) {
		n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) // TIOCINQ is FIONREAD on Linux
	})
	if cerr != nil || err != nil {
		return true
	}
	return n == 0
}

// lastOutput returns the last 64 KiB of all output, once the reader ended.
func (o *output) lastOutput() []byte {
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.tail)
}
