package agent

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// maxCapture bounds what is kept of an invocation's output (its last 64 KiB),
// and maxLine the length of one line handed on.
const (
	maxCapture = 64 << 10
	maxLine    = 256 << 10
)

// output reads the runtime's stdout and stderr (one pipe, so their order is
// kept) line by line; each line goes to sink with its sequence number and,
// while an invocation is being captured, into that invocation's buffer.
//
// The runtime writes its output before it posts its answer. To hand over an
// invocation's complete output without sleeping, take waits until the reader
// consumed everything in the pipe: the reader is parked in the poller and the
// kernel reports no unread bytes (FIONREAD).
type output struct {
	r    *os.File
	sink func(line []byte, seq uint64)

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever the reader makes progress
	parked   bool
	eof      bool
	seq      uint64
	partial  []byte
	capture  bool
	captured []byte
	tail     []byte // the last 64 KiB of all output
	done     chan struct{}
}

func newOutput(r *os.File, sink func([]byte, uint64)) *output {
	return &output{r: r, sink: sink, changed: make(chan struct{}), done: make(chan struct{})}
}

// run reads until every writer (the runtime's whole process group) is gone.
// The agent's Run owns it and waits for it.
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
			n, rerr = syscall.Read(int(fd), buf)
			if rerr == syscall.EAGAIN {
				o.mu.Lock()
				o.parked = true
				o.notifyLocked()
				o.mu.Unlock()
				return false
			}
			return true
		})
		if rerr == syscall.EINTR {
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

func (o *output) lineLocked(line []byte) {
	o.seq++
	o.sink(line, o.seq)
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

// take waits until everything written to the pipe so far was read, ends the
// capture and returns it with the sequence number of the last line read.
func (o *output) take() ([]byte, uint64) {
	for {
		o.mu.Lock()
		if o.eof || (o.parked && o.pipeEmpty()) {
			if len(o.partial) > 0 {
				o.lineLocked(o.partial)
				o.partial = o.partial[:0]
			}
			out, seq := o.captured, o.seq
			o.capture, o.captured = false, nil
			o.mu.Unlock()
			return out, seq
		}
		wait := o.changed
		o.mu.Unlock()
		<-wait
	}
}

// pipeEmpty reports whether the kernel holds no unread bytes in the pipe.
func (o *output) pipeEmpty() bool {
	rc, err := o.r.SyscallConn()
	if err != nil {
		return true
	}
	var n int32
	var errno syscall.Errno
	cerr := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	})
	if cerr != nil || errno != 0 {
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
