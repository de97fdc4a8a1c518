package runtimeoutput

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// started returns a running Capture of a fresh pipe and its write end. The
// test's cleanup closes the writer and waits for Run.
func started(t *testing.T, sink func([]byte, uint64)) (*Capture, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := New(r, sink)
	go c.Run()
	t.Cleanup(func() {
		w.Close()
		<-c.Done()
	})
	return c, w
}

func write(t *testing.T, w *os.File, s string) {
	t.Helper()
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// lines records what the sink got.
type lines struct {
	mu   sync.Mutex
	got  []string
	seqs []uint64
}

func (l *lines) sink(line []byte, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, string(line))
	l.seqs = append(l.seqs, seq)
}

func (l *lines) snapshot() ([]string, []uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...), append([]uint64(nil), l.seqs...)
}

func TestTakeReturnsTheInvocationsLines(t *testing.T) {
	tests := []struct {
		name    string
		before  string // written before Begin
		during  string // written between Begin and Take
		want    string // Take's capture
		wantAll []string
	}{
		{name: "lines", during: "a\nb\n", want: "a\nb\n", wantAll: []string{"a", "b"}},
		{name: "unterminated last line is flushed", during: "a\nno newline", want: "a\nno newline\n", wantAll: []string{"a", "no newline"}},
		{name: "output between invocations is not captured", before: "init\n", during: "call\n", want: "call\n", wantAll: []string{"init", "call"}},
		{name: "nothing", want: "", wantAll: nil},
		{name: "empty lines are lines", during: "\n\nx\n", want: "\n\nx\n", wantAll: []string{"", "", "x"}},
		{name: "utf-8 and carriage returns kept", during: "héllo ☃\r\n", want: "héllo ☃\r\n", wantAll: []string{"héllo ☃\r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l lines
			c, w := started(t, l.sink)
			write(t, w, tt.before)
			if tt.before != "" {
				// Drain "before" so that it is not part of the capture.
				c.Take()
			}
			c.Begin()
			write(t, w, tt.during)
			log, seq := c.Take()
			if string(log) != tt.want {
				t.Errorf("capture = %q, want %q", log, tt.want)
			}
			got, seqs := l.snapshot()
			if strings.Join(got, "|") != strings.Join(tt.wantAll, "|") {
				t.Errorf("sink got %q, want %q", got, tt.wantAll)
			}
			if seq != uint64(len(tt.wantAll)) {
				t.Errorf("seq = %d, want %d", seq, len(tt.wantAll))
			}
			for i, s := range seqs {
				if s != uint64(i+1) {
					t.Errorf("sequence numbers %v, want 1, 2, ...", seqs)
					break
				}
			}
		})
	}
}

// TestTakeWaitsForTheDrain writes bursts larger than a pipe's buffer and takes
// at once: the capture must hold everything written before, every time.
func TestTakeWaitsForTheDrain(t *testing.T) {
	c, w := started(t, nil)
	for call := range 20 {
		c.Begin()
		var b strings.Builder
		for i := range 1500 {
			fmt.Fprintf(&b, "call %d line %d %s\n", call, i, strings.Repeat("x", 40))
		}
		write(t, w, b.String())
		log, _ := c.Take()
		last := fmt.Sprintf("call %d line 1499 %s\n", call, strings.Repeat("x", 40))
		if !bytes.HasSuffix(log, []byte(last)) {
			t.Fatalf("call %d: capture does not end with the last line written; tail %q", call, log[max(0, len(log)-100):])
		}
		if len(log) > MaxCapture {
			t.Fatalf("call %d: capture is %d bytes, over %d", call, len(log), MaxCapture)
		}
		if call > 0 && bytes.Contains(log, fmt.Appendf(nil, "call %d line", call-1)) {
			t.Fatalf("call %d: capture holds the previous call's output", call)
		}
	}
}

func TestLongLinesAreSplit(t *testing.T) {
	var l lines
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := New(r, l.sink)
	go c.Run()
	long := strings.Repeat("y", MaxLine+10)
	write(t, w, long+"\n") // larger than the pipe: returns once the reader drained most
	w.Close()
	<-c.Done()
	got, _ := l.snapshot()
	if len(got) != 2 || len(got[0]) < MaxLine || got[0]+got[1] != long {
		lens := []int{}
		for _, g := range got {
			lens = append(lens, len(g))
		}
		t.Fatalf("line lengths %v, want the first at least %d and the two adding up to %d", lens, MaxLine, len(long))
	}
}

func TestLastOutputAfterEOF(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := New(r, nil)
	go c.Run()
	big := strings.Repeat("z", 100) + "\n"
	for range 1000 { // 101 KB: more than the tail keeps
		write(t, w, big)
	}
	write(t, w, "last words")
	w.Close()
	tail := c.LastOutput() // waits for Run
	if !bytes.HasSuffix(tail, []byte("z\nlast words\n")) || len(tail) > MaxCapture {
		t.Fatalf("tail (%d bytes) ends %q", len(tail), tail[max(0, len(tail)-30):])
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done open after LastOutput returned")
	}
	// Take after EOF returns at once.
	c.Begin()
	if log, _ := c.Take(); len(log) != 0 {
		t.Fatalf("capture after EOF = %q", log)
	}
}
