package process

import (
	"log/slog"
	"os"
	"os/exec"
	"testing"
)

// TestMaxMemoryUsedMB reads a process's peak RSS through the status file
// opened at its start: this test process's; 0 for a pid that does not exist;
// and 0 once the process it was opened for exited, even though it was read
// before.
func TestMaxMemoryUsedMB(t *testing.T) {
	b := &Backend{log: slog.New(slog.DiscardHandler)}
	newInstance := func(pid int) *instance {
		in := &instance{b: b, pid: pid}
		in.openStatus()
		return in
	}
	if mb := newInstance(os.Getpid()).maxMemoryUsedMB(); mb <= 0 || mb > 64<<10 {
		t.Errorf("maxMemoryUsedMB of this process = %d MB", mb)
	}
	if mb := newInstance(1 << 30).maxMemoryUsedMB(); mb != 0 {
		t.Errorf("maxMemoryUsedMB of no process = %d, want 0", mb)
	}

	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := newInstance(cmd.Process.Pid)
	if mb := in.maxMemoryUsedMB(); mb <= 0 {
		t.Errorf("maxMemoryUsedMB of a running sleep = %d MB", mb)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if mb := in.maxMemoryUsedMB(); mb != 0 {
		t.Errorf("maxMemoryUsedMB after the process exited = %d MB, want 0", mb)
	}
}
