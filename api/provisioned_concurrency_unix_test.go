//go:build unix

package api

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/process"
	"github.com/lambhq/lamb/internal/testenv"
)

// runtimeUnder lists the processes whose working directory is under dir
// (the process backend runs each instance in its own directory there).
func runtimeUnder(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && strings.HasPrefix(cwd, dir+string(filepath.Separator)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// With the real engine, a provisioned runtime killed behind lamb's back is
// replaced without any call, and the config shows it available again.
func TestProvisionedInstanceKilledIsReplacedRealEngine(t *testing.T) {
	testenv.LookPath(t, "python3")
	ctx := context.Background()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := process.New(process.Config{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(b)
	t.Cleanup(func() { _ = e.Close(ctx) })
	_, c := provMemory(t, e, "pck", 1)
	putPC(t, c, "pck", "1", 2)
	got := waitPC(t, c, "pck", "1", types.ProvisionedConcurrencyStatusEnumReady)
	if aws.ToInt32(got.AvailableProvisionedConcurrentExecutions) != 2 {
		t.Fatalf("available %d after READY, want 2", aws.ToInt32(got.AvailableProvisionedConcurrentExecutions))
	}
	pids := runtimeUnder(t, dir)
	if len(pids) != 2 {
		t.Fatalf("%d runtime processes under the work dir, want 2", len(pids))
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := getPC(t, c, "pck", "1")
		avail := aws.ToInt32(got.AvailableProvisionedConcurrentExecutions)
		if avail > 2 || aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) != 2 || got.Status != types.ProvisionedConcurrencyStatusEnumReady {
			t.Fatalf("while replacing: available %d allocated %d status %s", avail, aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions), got.Status)
		}
		now := runtimeUnder(t, dir)
		if avail == 2 && len(now) == 2 && !slices.Contains(now, pids[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not replaced: available %d, runtimes %v (killed %d)", avail, now, pids[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
