//go:build linux || darwin

package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

func newTestBackend(t *testing.T) *Backend {
	t.Helper()
	b, err := New(Config{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newUsersBackend returns a backend that runs functions as their accounts'
// uids, with a python they can run: it needs root.
func newUsersBackend(t *testing.T) *Backend {
	t.Helper()
	needRoot(t)
	b, err := New(Config{WorkDir: reachableWorkDir(t), PythonBin: pythonForUsers(t)})
	if err != nil {
		t.Fatal(err)
	}
	if b.noUsers != nil {
		t.Fatalf("functions would run as lamb's user: %v", b.noUsers)
	}
	return b
}

// needRoot skips t unless the test runs as root, as CI does.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: running functions as their own uids needs root (CI runs as root)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("skipping: function uids are Linux-only")
	}
}

// reachableWorkDir returns a WorkDir that other users can reach (a
// t.TempDir is inside a 0700 directory), removed when the test ends.
func reachableWorkDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lamb-process-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// pythonForUsers returns a python3 that function uids can run: not one under
// a 0700 home, as pyenv's is on our machines.
func pythonForUsers(t *testing.T) string {
	t.Helper()
	var why []string
	for _, c := range []string{"python3", "/usr/bin/python3", "/usr/local/bin/python3"} {
		p, err := exec.LookPath(c)
		if err == nil {
			if err = othersCanReach(p, 0o001); err == nil {
				return p
			}
		}
		why = append(why, err.Error())
	}
	testenv.Need(t, "a python3 other users can run ("+strings.Join(why, "; ")+")", false)
	return ""
}

// The suite runs with functions as their accounts' uids (root) and as
// lamb's own user (what a WorkDir out of other users' reach gets, and what
// lamb gets when it is not root).
func TestConformance(t *testing.T) {
	testenv.LookPath(t, "python3")
	testenv.LookPath(t, "node")
	tests := []struct {
		name string
		new  func(t *testing.T) *Backend
	}{
		{"own-uids", newUsersBackend},
		{"lamb-user", newTestBackend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) backend.Backend { return tt.new(t) },
				backendtest.Options{Python: true, Node: true})
		})
	}
}

// A function that outgrows its memory is reported as out of memory, by the
// limit each runtime gets (python: address space; node: V8's old space).
func TestOutOfMemory(t *testing.T) {
	tests := []struct {
		name, interpreter, runtime, handler, file, code string
	}{
		{"python", "python3", "python3.12", "app.handler", "app.py",
			"def handler(event, context):\n    b = bytearray(1024 * 1024 * 1024)\n    return len(b)\n"},
		{"node", "node", "nodejs22.x", "index.handler", "index.mjs",
			"export const handler = async () => { const a = []; for (;;) a.push(new Array(1e6).fill(1)); };\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testenv.LookPath(t, tc.interpreter)
			if tc.name == "python" && runtime.GOOS != "linux" {
				t.Skip("skipping: python's memory limit (RLIMIT_AS through prlimit) is Linux's")
			}
			b := newTestBackend(t)
			defer b.Close(context.Background())
			spec := &backend.Spec{InstanceID: tc.name + "-oom", Runtime: tc.runtime, PackageType: "Zip", Handler: tc.handler,
				MemoryMB: 128, Code: backendtest.ZipArtifact(t, map[string]string{tc.file: tc.code}),
				Env: map[string]string{"_HANDLER": tc.handler}}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			in, err := b.Launch(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			invokeWantOOM(t, in)
		})
	}
}

func TestReapKillsLeftovers(t *testing.T) {
	dir := t.TempDir()
	b, err := New(Config{WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// A process group left by a "dead server": its owner pid is a finished process.
	orphan := exec.Command("sleep", "300")
	orphan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- orphan.Wait() }()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeState(t, filepath.Join(dir, "instances", "orphan"), state{Version: 1, PID: orphan.Process.Pid,
		StartTime: procStartTime(orphan.Process.Pid), OwnerPID: dead.Process.Pid, ServerID: "old"})
	// An instance of a live server (this test process's parent stands in) is left alone.
	writeState(t, filepath.Join(dir, "instances", "other"), state{Version: 1, PID: 1 << 22, OwnerPID: os.Getppid()})

	if err := b.Reap(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("orphan process still running after Reap")
	}
	if _, err := os.Stat(filepath.Join(dir, "instances", "orphan")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("orphan dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "instances", "other")); err != nil {
		t.Errorf("live server's instance dir removed: %v", err)
	}
}

func writeState(t *testing.T, dir string, st state) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, "state.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExtractRefusesUnsafePaths(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		ok    bool
	}{
		{"normal", map[string]string{"a.py": "x", "pkg/b.py": "y"}, true},
		{"parent", map[string]string{"../evil": "x"}, false},
		{"nested parent", map[string]string{"a/../../evil": "x"}, false},
		{"absolute", map[string]string{"/abs": "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "out")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			a := backendtest.ZipArtifact(t, tt.files)
			err := fetchAndExtract(context.Background(), a, dir)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if _, err := os.Stat(filepath.Join(root, "evil")); err == nil {
				t.Fatal("wrote outside the target directory")
			}
		})
	}
}

// invokeOK invokes in with payload and returns the answer and the response
// (for its log); a failed invoke or a function error fails the test.
func invokeOK(t *testing.T, in backend.Instance, payload []byte) ([]byte, *backend.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := in.Invoke(ctx, &backend.Invocation{RequestID: fmt.Sprint("r-", time.Now().UnixNano()), Payload: payload, Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.ErrorType != "" {
		t.Fatalf("invoke %s: %v %q %s", payload, err, resp.ErrorType, body)
	}
	return body, resp
}

// invokeWantOOM invokes in, wants it to run out of memory, and waits for
// the instance's end.
func invokeWantOOM(t *testing.T, in backend.Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := in.Invoke(ctx, &backend.Invocation{RequestID: "r", Payload: []byte("{}"), Deadline: time.Now().Add(time.Minute)})
	var xe *backend.ExitError
	if !errors.As(err, &xe) || !xe.OOM {
		t.Fatalf("err = %v, want an out-of-memory *ExitError", err)
	}
	<-in.Done()
}
