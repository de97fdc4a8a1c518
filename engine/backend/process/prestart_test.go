//go:build linux

package process

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
	"github.com/lambhq/lamb/internal/testenv"
	"github.com/lambhq/lamb/runtimes"
)

// withPrestart turns pre-started runtimes on in b and waits until its
// python3.12 zygote is ready, returning it.
func withPrestart(t *testing.T, b *Backend) *zygote {
	t.Helper()
	b.cfg.Prestart = true
	rt, _ := runtimes.Lookup("python3.12")
	interp, err := b.interpreter(rt)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if z := b.pre.get(b, interp); z != nil {
			return z
		}
		b.pre.mu.Lock()
		failed := b.pre.failures[interp]
		b.pre.mu.Unlock()
		if failed > 0 || time.Now().After(deadline) {
			t.Fatalf("zygote for %s not ready (failures %d)", interp, failed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ppid reads a process's parent from /proc.
func ppid(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	p, _ := strconv.Atoi(f[1])
	return p
}

// fdTargets lists what a process's fds point at.
func fdTargets(t *testing.T, pid int) map[int]string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range entries {
		n, _ := strconv.Atoi(e.Name())
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil {
			out[n] = target
		}
	}
	return out
}

func pidOf(in backend.Instance) int { return in.(*instance).pid }

// The conformance suite, with runtimes forked from pre-started ones.
func TestPrestartConformance(t *testing.T) {
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
			backendtest.Run(t, func(t *testing.T) backend.Backend {
				b := tt.new(t)
				withPrestart(t, b)
				return engineEnv{b}
			}, backendtest.Options{Python: true, Node: true})
		})
	}
}

// engineEnv adds what the engine puts in every function's environment and
// the suite's specs lack: LANG, without which a python runtime must start
// fresh.
type engineEnv struct{ *Backend }

func (e engineEnv) Launch(ctx context.Context, spec *backend.Spec) (backend.Instance, error) {
	s := *spec
	s.Env = map[string]string{"LANG": "en_US.UTF-8"}
	for k, v := range spec.Env {
		s.Env[k] = v
	}
	return e.Backend.Launch(ctx, &s)
}

// A claimed instance is the zygote's child, runs the function's code with
// its environment as its account's uid, and holds no fd but its own.
func TestPrestartClaim(t *testing.T) {
	b := newUsersBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	z := withPrestart(t, b)

	a := launchProbe(t, b, "fn-a", "111111111111")
	other := launchProbe(t, b, "fn-b", "222222222222")
	for _, in := range []backend.Instance{a, other} {
		if p := ppid(t, pidOf(in)); p != z.cmd.Process.Pid {
			t.Fatalf("instance %s: parent %d, want the zygote %d", in.ID(), p, z.cmd.Process.Pid)
		}
	}
	var got ids
	if err := json.Unmarshal(probe(t, a, probeOp{Op: "ids"})[0], &got); err != nil {
		t.Fatal(err)
	}
	if want := accountUID("111111111111"); got.UID != want || got.GID != want || len(got.Groups) != 0 {
		t.Errorf("runs as %+v, want uid and gid %d and no groups", got, want)
	}
	var env map[string]string
	if err := json.Unmarshal(probe(t, a, probeOp{Op: "env", Arg: "_HANDLER,LAMBDA_TASK_ROOT,LAMBDA_RUNTIME_DIR"})[0], &env); err != nil {
		t.Fatal(err)
	}
	if env["_HANDLER"] != "app.handler" || !strings.HasPrefix(env["LAMBDA_TASK_ROOT"], b.code.dir) || env["LAMBDA_RUNTIME_DIR"] != b.runtimeDir {
		t.Errorf("environment %v: want the function's", env)
	}
	if r := probe(t, a, probeOp{Op: "read", Arg: filepath.Join(env["LAMBDA_TASK_ROOT"], "secret.txt")}); string(r[0]) != `"ok"` {
		t.Errorf("reading its own code: %s", r[0])
	}

	// fds: stdin /dev/null, stdout and stderr one pipe, the rest its own
	// sockets; nothing of the zygote's, nothing of the other instance's.
	fa, fb, fz := fdTargets(t, pidOf(a)), fdTargets(t, pidOf(other)), fdTargets(t, z.cmd.Process.Pid)
	if fa[0] != "/dev/null" || !strings.HasPrefix(fa[1], "pipe:") || fa[1] != fa[2] {
		t.Errorf("fds 0-2: %q %q %q, want /dev/null and one pipe", fa[0], fa[1], fa[2])
	}
	theirs := map[string]bool{}
	for _, fds := range []map[int]string{fb, fz} {
		for _, v := range fds {
			if v != "/dev/null" {
				theirs[v] = true
			}
		}
	}
	for n, v := range fa {
		if n > 2 && !strings.HasPrefix(v, "socket:") {
			t.Errorf("fd %d -> %s: want only sockets beyond 2", n, v)
		}
		if theirs[v] {
			t.Errorf("fd %d -> %s is also the zygote's or another instance's", n, v)
		}
	}
}

// Stop kills a claimed instance's whole process group, what it started too.
func TestPrestartStopKillsGroup(t *testing.T) {
	testenv.LookPath(t, "python3")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	withPrestart(t, b)
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": `import subprocess
def handler(event, context):
    p = subprocess.Popen(["sleep", "1000"])
    return p.pid
`})
	spec := &backend.Spec{InstanceID: "fn-sleep", PoolKey: "pool", ServerID: "test", FunctionName: "fn",
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:fn", Version: "$LATEST",
		PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler", MemoryMB: 256, Timeout: time.Minute,
		Env: map[string]string{"_HANDLER": "app.handler", "LANG": "en_US.UTF-8"}, Code: code}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if p := ppid(t, pidOf(in)); p == os.Getpid() {
		t.Fatalf("instance started the normal way, want it forked")
	}
	resp, err := in.Invoke(ctx, &backend.Invocation{RequestID: "r1", Payload: []byte(`{}`), Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	sleeper, err := strconv.Atoi(string(body))
	if err != nil {
		t.Fatalf("answer %q", body)
	}
	pid := pidOf(in)
	if err := in.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{pid, sleeper} {
		if !eventuallyGone(p) {
			t.Errorf("pid %d lives on after Stop", p)
		}
	}
}

// eventuallyGone waits (up to 5 s) until pid is no process or a zombie.
func eventuallyGone(pid int) bool {
	for range 500 {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		s := string(data)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] == "Z" {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// When the zygote dies, its instances are reported dead, launches start
// runtimes the normal way, and a new zygote takes over.
func TestPrestartZygoteCrash(t *testing.T) {
	testenv.LookPath(t, "python3")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	z := withPrestart(t, b)
	before := launchProbe(t, b, "fn-1", "123456789012")
	if err := z.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-before.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the zygote's instance did not end with it")
	}
	<-z.dead
	fallback := launchProbe(t, b, "fn-2", "123456789012")
	if p := ppid(t, pidOf(fallback)); p != os.Getpid() {
		t.Errorf("launch after the crash: parent %d, want lamb (%d): a normal start", p, os.Getpid())
	}
	if r := probe(t, fallback, probeOp{Op: "ids"}); len(r) != 1 {
		t.Fatal("fallback instance does not answer")
	}
	z2 := withPrestart(t, b)
	if z2 == z {
		t.Fatal("the dead zygote is still in use")
	}
	after := launchProbe(t, b, "fn-3", "123456789012")
	if p := ppid(t, pidOf(after)); p != z2.cmd.Process.Pid {
		t.Errorf("launch with a new zygote: parent %d, want it (%d)", p, z2.cmd.Process.Pid)
	}
}

func TestPrestartable(t *testing.T) {
	code := t.TempDir()
	withLib, withSO, shadow := t.TempDir(), t.TempDir(), t.TempDir()
	for _, p := range []string{filepath.Join(withLib, "lib"), filepath.Join(shadow, "json")} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(code, "app.py"), filepath.Join(code, "ext.cpython-312-x86_64-linux-gnu.so"), filepath.Join(withSO, "libfoo.so.1")} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(layer, "python", "logging"), 0o755); err != nil {
		t.Fatal(err)
	}
	modules := map[string]bool{"json": true, "logging": true, "os": true}
	tests := []struct {
		name   string
		env    []string
		code   string
		layers []string
		ok     bool
	}{
		{"plain", []string{"_HANDLER=app.h", "PYTHONPATH=/x", "PYTHONUNBUFFERED=1", "LD_LIBRARY_PATH=/a", "LANG=en_US.UTF-8", "TZ=:UTC"}, code, nil, true},
		{"interpreter flag by env", []string{"LANG=en_US.UTF-8", "PYTHONHASHSEED=0"}, code, nil, false},
		{"another locale", []string{"LANG=en_US.UTF-8", "LC_ALL=C.UTF-8"}, code, nil, false},
		{"another LANG", []string{"LANG=C"}, code, nil, false},
		{"no LANG", nil, code, nil, false},
		{"exec wrapper", []string{"LANG=en_US.UTF-8", "AWS_LAMBDA_EXEC_WRAPPER=/opt/w"}, code, nil, false},
		{"preload", []string{"LANG=en_US.UTF-8", "LD_PRELOAD=/x.so"}, code, nil, false},
		{"code lib dir", []string{"LANG=en_US.UTF-8"}, withLib, nil, false},
		{"code shared library", []string{"LANG=en_US.UTF-8"}, withSO, nil, false},
		{"code shadows a loaded module", []string{"LANG=en_US.UTF-8"}, shadow, nil, false},
		{"layer shadows a loaded module", []string{"LANG=en_US.UTF-8"}, code, []string{layer}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			why := prestartable(modules, tt.env, tt.code, tt.layers)
			if (why == "") != tt.ok {
				t.Errorf("prestartable = %q, want ok=%v", why, tt.ok)
			}
		})
	}
}

// launchPy launches a python3.12 instance of files with env on b.
func launchPy(t *testing.T, b *Backend, id string, files, env map[string]string) backend.Instance {
	t.Helper()
	e := map[string]string{"_HANDLER": "app.handler", "LANG": "en_US.UTF-8"}
	for k, v := range env {
		e[k] = v
	}
	spec := &backend.Spec{InstanceID: id, PoolKey: "pool", ServerID: "test", FunctionName: id,
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:" + id, Version: "$LATEST",
		PackageType: "Zip", Runtime: "python3.12", Handler: "app.handler", MemoryMB: 128, Timeout: time.Minute,
		Env: e, Code: backendtest.ZipArtifact(t, files)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	return in
}

// A claimed python instance gets the same memory limit, and outgrowing it
// is reported as out of memory.
func TestPrestartOutOfMemory(t *testing.T) {
	testenv.LookPath(t, "python3")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	z := withPrestart(t, b)
	in := launchPy(t, b, "fn-oom", map[string]string{"app.py": "def handler(event, context):\n    b = bytearray(1024 * 1024 * 1024)\n    return len(b)\n"}, nil)
	if p := ppid(t, pidOf(in)); p != z.cmd.Process.Pid {
		t.Fatalf("parent %d, want the zygote %d", p, z.cmd.Process.Pid)
	}
	invokeWantOOM(t, in)
}

// What only works at interpreter start gets a fresh interpreter; what the
// child can apply (PYTHONPATH) works when forked.
func TestPrestartFallbackRule(t *testing.T) {
	testenv.LookPath(t, "python3")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	z := withPrestart(t, b)
	app := map[string]string{"app.py": "import os, sys\ndef handler(event, context):\n    import extra\n    return [os.environ.get('PYTHONHASHSEED', ''), extra.X, sys.flags.hash_randomization]\n",
		"vendor/extra.py": "X = 'from PYTHONPATH'\n"}
	tests := []struct {
		name   string
		env    map[string]string
		forked bool
		want   string
	}{
		{"PYTHONPATH is applied by the child", map[string]string{"PYTHONPATH": "vendor"}, true, `["", "from PYTHONPATH", 1]`},
		{"PYTHONHASHSEED needs a fresh start", map[string]string{"PYTHONPATH": "vendor", "PYTHONHASHSEED": "0"}, false, `["0", "from PYTHONPATH", 0]`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := launchPy(t, b, fmt.Sprint("fn-rule-", i), app, tt.env)
			if forked := ppid(t, pidOf(in)) == z.cmd.Process.Pid; forked != tt.forked {
				t.Errorf("forked = %v, want %v", forked, tt.forked)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			resp, err := in.Invoke(ctx, &backend.Invocation{RequestID: "r", Payload: []byte("{}"), Deadline: time.Now().Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if string(body) != tt.want || resp.ErrorType != "" {
				t.Errorf("answer %s (%s), want %s", body, resp.ErrorType, tt.want)
			}
		})
	}
}
