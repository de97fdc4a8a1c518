package process

import (
	"os"
	"testing"
)

// TestMaxMemoryUsedMB reads this test process's peak RSS, and 0 for a pid
// that does not exist.
func TestMaxMemoryUsedMB(t *testing.T) {
	if mb := (&instance{pid: os.Getpid()}).maxMemoryUsedMB(); mb <= 0 || mb > 64<<10 {
		t.Errorf("maxMemoryUsedMB of this process = %d MB", mb)
	}
	if mb := (&instance{pid: 1 << 30}).maxMemoryUsedMB(); mb != 0 {
		t.Errorf("maxMemoryUsedMB of no process = %d, want 0", mb)
	}
}
