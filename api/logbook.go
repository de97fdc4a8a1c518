package api

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine"
)

// Logbook keeps the log lines of every function (its runtime's output and the
// START/END/REPORT lines): the most recent ones per function for `lamb logs`,
// and, as CloudWatch Logs would, events with timestamps in one log stream per
// instance, in log groups by account, region and name (logs.go serves them).
// Everything is in memory: nothing survives a restart. It is safe for
// concurrent use.
type Logbook struct {
	mu       sync.Mutex
	capacity int
	byARN    map[string]*logRing

	// The CloudWatch Logs view: events older than retention, and beyond
	// maxEvents per log group (oldest first), are dropped.
	retention time.Duration
	maxEvents int
	now       func() time.Time
	seq       int64 // last event's sequence number, over every group
	groups    map[groupKey]*logGroup
}

// Defaults of the CloudWatch Logs view.
const (
	DefaultLogRetention = 24 * time.Hour
	DefaultLogMaxEvents = 100000
)

// LogbookOption configures a Logbook.
type LogbookOption func(*Logbook)

// WithLogRetention drops events older than d (0: DefaultLogRetention).
func WithLogRetention(d time.Duration) LogbookOption {
	return func(b *Logbook) {
		if d > 0 {
			b.retention = d
		}
	}
}

// WithLogMaxEvents keeps at most n events per log group (0: DefaultLogMaxEvents).
func WithLogMaxEvents(n int) LogbookOption {
	return func(b *Logbook) {
		if n > 0 {
			b.maxEvents = n
		}
	}
}

func withLogClock(now func() time.Time) LogbookOption { return func(b *Logbook) { b.now = now } }

type groupKey struct{ account, region, name string }

type logGroup struct {
	name    string
	created int64 // ms since the epoch, as every time in the Logs API
	streams map[string]*logStream
	events  int
	bytes   int64
}

type logStream struct {
	name          string
	created       int64
	lastIngestion int64
	events        []logEvent // oldest first
}

type logEvent struct {
	seq int64
	ts  int64
	msg string
}

type logRing struct {
	lines [][]byte
	next  int // index of the oldest line once the ring is full
	subs  map[chan []byte]struct{}
}

// NewLogbook keeps up to capacity lines per function for `lamb logs` (0
// means 1000), and log groups as the options say.
func NewLogbook(capacity int, opts ...LogbookOption) *Logbook {
	if capacity <= 0 {
		capacity = 1000
	}
	b := &Logbook{capacity: capacity, byARN: map[string]*logRing{},
		retention: DefaultLogRetention, maxEvents: DefaultLogMaxEvents, now: time.Now, groups: map[groupKey]*logGroup{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// LogLine records one line of an instance of fn on its log stream stream,
// implementing half of engine.Observer. A line without a stream (none is
// expected) goes to `lamb logs` only.
func (b *Logbook) LogLine(fn *engine.Function, stream string, line []byte) {
	line = bytes.TrimRight(line, "\n")
	b.Add(fn.ARN, line)
	if stream == "" {
		return
	}
	name := fn.LogGroup
	if name == "" {
		name = "/aws/lambda/" + fn.Name
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now().UnixMilli()
	k := groupKey{fn.AccountID, fn.Region, name}
	g := b.groups[k]
	if g == nil {
		g = &logGroup{name: name, created: now, streams: map[string]*logStream{}}
		b.groups[k] = g
	}
	st := g.streams[stream]
	if st == nil {
		st = &logStream{name: stream, created: now}
		g.streams[stream] = st
	}
	b.seq++
	st.events = append(st.events, logEvent{seq: b.seq, ts: now, msg: string(line)})
	st.lastIngestion = now
	g.events++
	g.bytes += int64(len(line))
	b.pruneLocked(g, now)
}

// pruneLocked drops g's events beyond the retention and over maxEvents,
// oldest first, and streams left empty.
func (b *Logbook) pruneLocked(g *logGroup, now int64) {
	cutoff := now - b.retention.Milliseconds()
	for g.events > 0 {
		var oldest *logStream
		for _, st := range g.streams {
			if len(st.events) > 0 && (oldest == nil || st.events[0].seq < oldest.events[0].seq) {
				oldest = st
			}
		}
		if oldest == nil || (g.events <= b.maxEvents && oldest.events[0].ts >= cutoff) {
			break
		}
		g.events--
		g.bytes -= int64(len(oldest.events[0].msg))
		oldest.events[0] = logEvent{}
		oldest.events = oldest.events[1:]
		if len(oldest.events) == 0 {
			delete(g.streams, oldest.name)
		}
	}
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
