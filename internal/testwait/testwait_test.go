package testwait

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	For(t, "three polls", func() bool { return n.Add(1) >= 3 })
	if got := n.Load(); got != 3 {
		t.Fatalf("cond called %d times, want 3", got)
	}
}

func TestPollGivesUpAtTheDeadline(t *testing.T) {
	start := time.Now()
	if poll(20*time.Millisecond, func() bool { return false }) {
		t.Fatal("poll reported a condition that never holds")
	}
	if d := time.Since(start); d < 20*time.Millisecond || d > 5*time.Second {
		t.Fatalf("poll gave up after %v, want about 20ms", d)
	}
}
