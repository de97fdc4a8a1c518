package api

import (
	"bytes"
	"context"
	"sync"
)

// Logbook keeps the most recent log lines of every function (its runtime's output
// and the START/END/REPORT lines), for `lamb logs`. It is safe for concurrent use.
type Logbook struct {
	mu       sync.Mutex
	capacity int
	byARN    map[string]*logRing
}

type logRing struct {
	lines [][]byte
	next  int // index of the oldest line once the ring is full
	subs  map[chan []byte]struct{}
}

// NewLogbook keeps up to capacity lines per function (0 means 1000).
func NewLogbook(capacity int) *Logbook {
	if capacity <= 0 {
		capacity = 1000
	}
	return &Logbook{capacity: capacity, byARN: map[string]*logRing{}}
}

func (b *Logbook) ring(arn string) *logRing {
	r := b.byARN[arn]
	if r == nil {
		r = &logRing{subs: map[chan []byte]struct{}{}}
		b.byARN[arn] = r
	}
	return r
}

// Add records one line of the function with the unqualified ARN arn.
func (b *Logbook) Add(arn string, line []byte) {
	line = bytes.Clone(bytes.TrimRight(line, "\n"))
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.ring(arn)
	if len(r.lines) < b.capacity {
		r.lines = append(r.lines, line)
	} else {
		r.lines[r.next] = line
		r.next = (r.next + 1) % b.capacity
	}
	for ch := range r.subs {
		select {
		case ch <- line:
		default: // a follower too slow to keep up loses lines rather than stalling invocations
		}
	}
}

// Lines returns the recorded lines of a function, oldest first.
func (b *Logbook) Lines(arn string) [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byARN[arn]
	if r == nil {
		return nil
	}
	out := make([][]byte, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}

// Follow returns the recorded lines and a channel of the lines added after them,
// until ctx ends (the channel is then closed).
func (b *Logbook) Follow(ctx context.Context, arn string) ([][]byte, <-chan []byte) {
	ch := make(chan []byte, 256)
	b.mu.Lock()
	r := b.ring(arn)
	past := make([][]byte, 0, len(r.lines))
	past = append(past, r.lines[r.next:]...)
	past = append(past, r.lines[:r.next]...)
	r.subs[ch] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(r.subs, ch)
		close(ch)
		b.mu.Unlock()
	})
	return past, ch
}
