//go:build linux

package process

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/engine/backend/backendtest"
	"github.com/lambhq/lamb/internal/testenv"
	"github.com/lambhq/lamb/runtimes"
)

// nodeProbe answers what a test asks about the process it runs in, and
// writes a line at init and lines on each invoke (for the log checks).
const nodeProbe = `import fs from "node:fs";
import { spawn } from "node:child_process";
import http from "node:http";
process.stdout.write("init line\n");
export const handler = async (event) => {
  if (event.op === "console") {
    console.log("console line");
    return null;
  }
  process.stdout.write("invoke line\n");
  process.stderr.write("error line\n");
  switch (event.op) {
    case "self":
      return {
        pid: process.pid, uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
        cwd: process.cwd(), argv: process.argv, execArgv: process.execArgv, env: process.env,
        tzOffset: new Date(0).getTimezoneOffset(), maxHeaderSize: http.maxHeaderSize,
        fds: fs.readdirSync("/proc/self/fd").map(Number),
      };
    case "require":
      return (await import("node:module")).createRequire(process.cwd() + "/")(event.arg).X;
    case "sleep":
      return spawn("sleep", ["1000"], { stdio: "ignore" }).pid;
  }
  return null;
};
`

type nodeSelf struct {
	PID           int               `json:"pid"`
	UID           uint32            `json:"uid"`
	GID           uint32            `json:"gid"`
	Groups        []uint32          `json:"groups"`
	Cwd           string            `json:"cwd"`
	Argv          []string          `json:"argv"`
	ExecArgv      []string          `json:"execArgv"`
	Env           map[string]string `json:"env"`
	TZOffset      int               `json:"tzOffset"`
	MaxHeaderSize int               `json:"maxHeaderSize"`
	FDs           []int             `json:"fds"`
}

// nodeLaunch is one launch of the node probe.
type nodeLaunch struct {
	id, account string
	memoryMB    int
	env         map[string]string
	layers      []backend.Artifact
}

// launchNode launches l on b and returns it with the lines it wrote (the
// spec's Log: everything the instance wrote, in order).
func launchNode(t *testing.T, b *Backend, l nodeLaunch) (backend.Instance, func() []string) {
	t.Helper()
	if l.account == "" {
		l.account = "123456789012"
	}
	if l.memoryMB == 0 {
		l.memoryMB = 128
	}
	env := map[string]string{"_HANDLER": "index.handler", "LANG": "en_US.UTF-8"}
	for k, v := range l.env {
		env[k] = v
	}
	var mu sync.Mutex
	var lines []string
	spec := &backend.Spec{InstanceID: l.id, PoolKey: "pool", ServerID: "test", FunctionName: l.id,
		FunctionARN: "arn:aws:lambda:us-east-1:" + l.account + ":function:" + l.id, Version: "$LATEST",
		PackageType: "Zip", Runtime: "nodejs20.x", Handler: "index.handler", MemoryMB: l.memoryMB, Timeout: time.Minute,
		Env: env, Code: backendtest.ZipArtifact(t, map[string]string{"index.mjs": nodeProbe, "vendor/extra.js": "exports.X = 'from NODE_PATH';\n"}),
		Layers: l.layers,
		Log: func(line []byte) {
			mu.Lock()
			lines = append(lines, string(line))
			mu.Unlock()
		}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	return in, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
}

// invokeNode invokes in with op and returns the answer and the invoke's log.
func invokeNode(t *testing.T, in backend.Instance, op, arg string) (json.RawMessage, string) {
	t.Helper()
	payload, _ := json.Marshal(map[string]string{"op": op, "arg": arg})
	body, resp := invokeOK(t, in, payload)
	return body, string(resp.Log())
}

func nodeSelfOf(t *testing.T, in backend.Instance) nodeSelf {
	t.Helper()
	body, _ := invokeNode(t, in, "self", "")
	var s nodeSelf
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("self %s: %v", body, err)
	}
	return s
}

// waitSpare waits until b, with pre-started runtimes on, has a spare for
// node ready, returning the one the next launch takes.
func waitSpare(t *testing.T, b *Backend) *spare {
	t.Helper()
	rt, _ := runtimes.Lookup("nodejs20.x")
	interp, err := b.interpreter(rt)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		b.spares.mu.Lock()
		var s *spare
		if l := b.spares.ss[interp]; len(l) > 0 {
			s = l[0] // the one the next launch takes once it is ready
		}
		failed := b.spares.failures[interp]
		b.spares.mu.Unlock()
		if s != nil {
			<-s.ready
			if s.err == nil && !s.dead() {
				return s
			}
		}
		if failed > 0 || time.Now().After(deadline) {
			t.Fatalf("spare for %s not ready (failures %d)", interp, failed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A claimed spare is the instance: lamb's child, its account's ids, the
// function's environment alone (the same keys as a normal start's), its code
// dir, the argv of a normal start, and no fd of the spare's control socket;
// a new spare is started after it.
func TestSpareClaim(t *testing.T) {
	testenv.LookPath(t, "node")
	for _, tt := range []struct {
		name string
		new  func(t *testing.T) *Backend
	}{{"own-uids", newUsersBackend}, {"lamb-user", newTestBackend}} {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.new(t)
			t.Cleanup(func() { _ = b.Close(context.Background()) })
			normal, _ := launchNode(t, b, nodeLaunch{id: "fn-normal", env: map[string]string{"FN_VAR": "x"}})
			want := nodeSelfOf(t, normal)
			// The first launch with prestart on starts the spare and itself normally.
			b.cfg.Prestart = true
			first, _ := launchNode(t, b, nodeLaunch{id: "fn-first"})
			sp := waitSpare(t, b)
			if pidOf(first) == sp.cmd.Process.Pid {
				t.Fatal("the first launch took a spare that was not started yet")
			}
			control := fdTargets(t, sp.cmd.Process.Pid)[3]
			if !strings.HasPrefix(control, "socket:") {
				t.Fatalf("spare fd 3 = %q, want its control socket", control)
			}

			in, _ := launchNode(t, b, nodeLaunch{id: "fn-claimed", env: map[string]string{"FN_VAR": "x"}})
			if pidOf(in) != sp.cmd.Process.Pid {
				t.Fatalf("instance pid %d, want the spare's %d", pidOf(in), sp.cmd.Process.Pid)
			}
			if p := ppid(t, pidOf(in)); p != os.Getpid() {
				t.Errorf("parent %d, want lamb %d", p, os.Getpid())
			}
			got := nodeSelfOf(t, in)
			if got.UID != want.UID || got.GID != want.GID || len(got.Groups) != len(want.Groups) {
				t.Errorf("ids %d:%d %v, want a normal start's %d:%d %v", got.UID, got.GID, got.Groups, want.UID, want.GID, want.Groups)
			}
			if !strings.HasPrefix(got.Cwd, b.code.dir) || got.Env["LAMBDA_TASK_ROOT"] != got.Cwd {
				t.Errorf("cwd %s, LAMBDA_TASK_ROOT %s: want the code dir", got.Cwd, got.Env["LAMBDA_TASK_ROOT"])
			}
			if !slices.Equal(got.Argv, want.Argv) || !slices.Equal(got.ExecArgv, want.ExecArgv) {
				t.Errorf("argv %q %q, want a normal start's %q %q", got.Argv, got.ExecArgv, want.Argv, want.ExecArgv)
			}
			keys := func(m map[string]string) []string {
				return slices.Sorted(func(yield func(string) bool) {
					for k := range m {
						if !yield(k) {
							return
						}
					}
				})
			}
			if !slices.Equal(keys(got.Env), keys(want.Env)) || got.Env["FN_VAR"] != "x" || got.Env["PATH"] != want.Env["PATH"] {
				t.Errorf("environment %v, want the keys of a normal start's %v", keys(got.Env), keys(want.Env))
			}
			// As many fds as a fresh node's at the same point: nothing left
			// open by the spare's warm-up or control socket.
			if len(got.FDs) != len(want.FDs) {
				t.Errorf("fds %v, want as many as a normal start's %v", got.FDs, want.FDs)
			}
			for n, v := range fdTargets(t, pidOf(in)) {
				if v == control {
					t.Errorf("fd %d is still the spare's control socket", n)
				}
			}
			next := waitSpare(t, b)
			if next == sp {
				t.Fatal("the claimed spare is still offered")
			}
		})
	}
}

// A claimed instance's output is exactly its own: its init line, then each
// invoke's lines, as a normal start's.
func TestSpareLogs(t *testing.T) {
	testenv.LookPath(t, "node")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	for _, mode := range []string{"normal", "spare"} {
		t.Run(mode, func(t *testing.T) {
			var sp *spare
			if mode == "spare" {
				b.cfg.Prestart = true
				launchNode(t, b, nodeLaunch{id: "fn-warm"})
				sp = waitSpare(t, b)
			}
			in, lines := launchNode(t, b, nodeLaunch{id: "fn-logs-" + mode})
			if sp != nil && pidOf(in) != sp.cmd.Process.Pid {
				t.Fatal("not started from the spare")
			}
			_, log := invokeNode(t, in, "none", "")
			// The init line may or may not be read before the invoke begins.
			if want := "invoke line\nerror line\n"; log != want && log != "init line\n"+want {
				t.Errorf("invoke log %q, want %q", log, want)
			}
			if want := []string{"init line", "invoke line", "error line"}; !slices.Equal(lines(), want) {
				t.Errorf("output %q, want %q", lines(), want)
			}
		})
	}
	// The log format is the claiming function's, read after the claim.
	for _, format := range []string{"Text", "JSON"} {
		t.Run("spare "+format, func(t *testing.T) {
			sp := waitSpare(t, b)
			in, _ := launchNode(t, b, nodeLaunch{id: "fn-format-" + format, env: map[string]string{"AWS_LAMBDA_LOG_FORMAT": format}})
			if pidOf(in) != sp.cmd.Process.Pid {
				t.Fatal("not started from the spare")
			}
			_, log := invokeNode(t, in, "console", "")
			log = strings.TrimPrefix(log, "init line\n")
			if isJSON := strings.HasPrefix(log, "{") && strings.Contains(log, `"message":"console line"`); isJSON != (format == "JSON") || !strings.Contains(log, "console line") {
				t.Errorf("%s log: %q", format, log)
			}
		})
	}
}

// What node reads at start only gets a normal start; what the bootstrap
// applies after the claim (TZ, NODE_PATH) works in a spare; a launch with
// another heap limit does not take a spare started with the last one.
func TestSpareFallbackRule(t *testing.T) {
	testenv.LookPath(t, "node")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	b.cfg.Prestart = true
	tests := []struct {
		name     string
		l        nodeLaunch
		spare    bool
		check    func(nodeSelf) string
		requires string // a module the function requires, and what it exports
	}{
		{"TZ applies", nodeLaunch{env: map[string]string{"TZ": "Asia/Tokyo"}}, true,
			func(s nodeSelf) string { return fmt.Sprint(s.TZOffset) }, "-540"},
		{"NODE_PATH applies", nodeLaunch{env: map[string]string{"NODE_PATH": "vendor"}}, true, nil, "from NODE_PATH"},
		{"NODE_OPTIONS needs a fresh start", nodeLaunch{env: map[string]string{"NODE_OPTIONS": "--max-http-header-size=4321"}}, false,
			func(s nodeSelf) string { return fmt.Sprint(s.MaxHeaderSize) }, "4321"},
		{"another locale needs a fresh start", nodeLaunch{env: map[string]string{"LC_ALL": "C.UTF-8"}}, false,
			func(s nodeSelf) string { return s.Env["LC_ALL"] }, "C.UTF-8"},
		{"another heap limit needs a fresh start", nodeLaunch{memoryMB: 256}, false,
			func(s nodeSelf) string { return strings.Join(s.ExecArgv, " ") }, "--max-old-space-size=256"},
		{"the spare started for it", nodeLaunch{memoryMB: 256}, true,
			func(s nodeSelf) string { return strings.Join(s.ExecArgv, " ") }, "--max-old-space-size=256"},
	}
	launchNode(t, b, nodeLaunch{id: "fn-warm"})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := waitSpare(t, b)
			tt.l.id = fmt.Sprint("fn-rule-", i)
			in, _ := launchNode(t, b, tt.l)
			if spared := pidOf(in) == sp.cmd.Process.Pid; spared != tt.spare {
				t.Errorf("from the spare = %v, want %v", spared, tt.spare)
			}
			var got string
			if tt.check != nil {
				got = tt.check(nodeSelfOf(t, in))
			} else {
				body, _ := invokeNode(t, in, "require", "extra")
				_ = json.Unmarshal(body, &got)
			}
			if got != tt.requires {
				t.Errorf("got %q, want %q", got, tt.requires)
			}
		})
	}
}

func TestSpareable(t *testing.T) {
	code, withLib, withSO := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(withLib, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(code, "index.mjs"), filepath.Join(code, "addon.node"), filepath.Join(withSO, "libfoo.so.1")} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lang := "LANG=en_US.UTF-8"
	tests := []struct {
		name    string
		env     []string
		fnEnv   map[string]string
		code    string
		layers  []string
		debug   bool
		spareOK bool
	}{
		{"plain", []string{"_HANDLER=index.h", lang, "NODE_PATH=/x", "LD_LIBRARY_PATH=/a", "TZ=:UTC", "AWS_REGION=us-east-1"}, nil, code, nil, false, true},
		{"NODE_OPTIONS", []string{lang, "NODE_OPTIONS=--inspect"}, nil, code, nil, false, false},
		{"NODE_EXTRA_CA_CERTS", []string{lang, "NODE_EXTRA_CA_CERTS=/ca.pem"}, nil, code, nil, false, false},
		{"UV_THREADPOOL_SIZE", []string{lang, "UV_THREADPOOL_SIZE=8"}, nil, code, nil, false, false},
		{"OPENSSL_CONF", []string{lang, "OPENSSL_CONF=/x"}, nil, code, nil, false, false},
		{"exec wrapper", []string{lang, "AWS_LAMBDA_EXEC_WRAPPER=/opt/w"}, nil, code, nil, false, false},
		{"preload", []string{lang, "LD_PRELOAD=/x.so"}, nil, code, nil, false, false},
		{"own LD_LIBRARY_PATH", []string{lang, "LD_LIBRARY_PATH=/mine:/code"}, map[string]string{"LD_LIBRARY_PATH": "/mine"}, code, nil, false, false},
		{"another locale", []string{lang, "LC_ALL=C.UTF-8"}, nil, code, nil, false, false},
		{"no LANG", nil, nil, code, nil, false, false},
		{"code lib dir", []string{lang}, nil, withLib, nil, false, false},
		{"layer lib dir", []string{lang}, nil, code, []string{withLib}, false, false},
		{"code shared library", []string{lang}, nil, withSO, nil, false, false},
		{"debugged", []string{lang}, nil, code, nil, true, false},
	}
	b := newTestBackend(t)
	b.cfg.Prestart = true
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &backend.Spec{InstanceID: "x", Env: tt.fnEnv}
			if tt.debug {
				spec.Debug = &backend.Debug{}
			}
			why := spareable(spec, tt.env, tt.code, tt.layers)
			if tt.debug && b.spareFor(runtimes.FamilyNodejs, "/usr/bin/node", []string{"node"}, spec, lambUser(), tt.env, tt.code, tt.layers) != nil {
				t.Error("a debugged launch got a spare")
			}
			if !tt.debug && (why == "") != tt.spareOK {
				t.Errorf("spareable = %q, want ok=%v", why, tt.spareOK)
			}
		})
	}
}

// Stop kills a claimed instance's whole group; a heap too large for
// MemorySize is out of memory, as in a normal start.
func TestSpareStopAndOutOfMemory(t *testing.T) {
	testenv.LookPath(t, "node")
	b := newUsersBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	b.cfg.Prestart = true
	launchNode(t, b, nodeLaunch{id: "fn-warm"})
	sp := waitSpare(t, b)
	in, _ := launchNode(t, b, nodeLaunch{id: "fn-sleep"})
	if pidOf(in) != sp.cmd.Process.Pid {
		t.Fatal("not started from the spare")
	}
	body, _ := invokeNode(t, in, "sleep", "")
	var sleeper int
	if err := json.Unmarshal(body, &sleeper); err != nil || sleeper <= 0 {
		t.Fatalf("answer %s", body)
	}
	if err := in.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{pidOf(in), sleeper} {
		if !eventuallyGone(p) {
			t.Errorf("pid %d lives on after Stop", p)
		}
	}

	sp = waitSpare(t, b)
	spec := &backend.Spec{InstanceID: "fn-oom", Runtime: "nodejs20.x", PackageType: "Zip", Handler: "index.handler",
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:fn-oom", MemoryMB: 128,
		Code: backendtest.ZipArtifact(t, map[string]string{"index.mjs": "export const handler = async () => { const a = []; for (;;) a.push(new Array(1e6).fill(1)); };\n"}),
		Env:  map[string]string{"_HANDLER": "index.handler", "LANG": "en_US.UTF-8"}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	oom, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if pidOf(oom) != sp.cmd.Process.Pid {
		t.Fatal("not started from the spare")
	}
	invokeWantOOM(t, oom)
}

// A spare that died unclaimed is not used: the launch starts normally and a
// new spare follows.
func TestSpareDied(t *testing.T) {
	testenv.LookPath(t, "node")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	b.cfg.Prestart = true
	launchNode(t, b, nodeLaunch{id: "fn-warm"})
	sp := waitSpare(t, b)
	if err := sp.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-sp.exited
	in, _ := launchNode(t, b, nodeLaunch{id: "fn-after"})
	if pidOf(in) == sp.cmd.Process.Pid {
		t.Fatal("a dead spare was claimed")
	}
	nodeSelfOf(t, in)
	if next := waitSpare(t, b); next == sp {
		t.Fatal("the dead spare is still offered")
	}
}

// Two cold starts in a row both find a spare ready: lamb keeps two.
func TestSpareBackToBack(t *testing.T) {
	testenv.LookPath(t, "node")
	b := newTestBackend(t)
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	b.cfg.Prestart = true
	launchNode(t, b, nodeLaunch{id: "fn-warm"})
	rt, _ := runtimes.Lookup("nodejs20.x")
	interp, _ := b.interpreter(rt)
	var pids []int
	for deadline := time.Now().Add(15 * time.Second); len(pids) < sparesPerInterpreter; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d spares not ready", sparesPerInterpreter)
		}
		b.spares.mu.Lock()
		l := slices.Clone(b.spares.ss[interp])
		b.spares.mu.Unlock()
		pids = pids[:0]
		for _, s := range l {
			select {
			case <-s.ready:
			default:
				continue // s.cmd is not set yet
			}
			if s.dead() {
				continue
			}
			pids = append(pids, s.cmd.Process.Pid)
		}
	}
	for i, want := range pids {
		in, _ := launchNode(t, b, nodeLaunch{id: fmt.Sprint("fn-burst-", i)})
		if pidOf(in) != want {
			t.Errorf("launch %d: pid %d, want the spare %d", i, pidOf(in), want)
		}
	}
}
