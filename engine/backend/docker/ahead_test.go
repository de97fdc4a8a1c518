package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// waitAhead waits until b has a sandbox started ahead other than container
// not, and returns it.
func waitAhead(t *testing.T, b *Backend, not string) *holder {
	t.Helper()
	return waitReady(t, b.ahead, func(_ string, sp *spare) bool { return sp.id != not })
}

// TestStartAhead: after a launch, a container of the same configuration
// waits with no runtime; the next launch of that function version claims it,
// and its runtime starts then with that instance's environment (never the
// agent's secret), from the same read-only code. Another configuration does
// not claim it; a spare killed behind lamb's back costs a normal start;
// Close leaves nothing.
func TestStartAhead(t *testing.T) {
	b := newTestBackendAs(t, "test-"+randomID(), func(c *Config) { c.StartAhead = true })
	ctx := context.Background()
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	spec := testSpec(t, "python3.12", "app.handler", code)
	first := launch(t, b, spec).(*instance)
	if first.ahead {
		t.Fatal("the first launch claimed a sandbox started ahead")
	}
	sb := waitAhead(t, b, "")
	// Nothing but the agent runs in it (read from the host's /proc: Podman's
	// top API is not Docker's).
	ci, err := b.cli.ContainerInspect(ctx, sb.id)
	if err != nil || ci.State == nil || ci.State.Pid == 0 {
		t.Fatalf("inspect the sandbox: %v", err)
	}
	if kids := children(t, ci.State.Pid); len(kids) != 0 {
		t.Errorf("before the claim, the agent has children: %v", kids)
	}
	if err := first.Stop(ctx); err != nil { // as an idle eviction does
		t.Fatal(err)
	}
	waitDone(t, first)

	next := testSpec(t, "python3.12", "app.handler", code)
	next.Env["AWS_LAMBDA_LOG_STREAM_NAME"] = "2026/12/04/[$LATEST]claimed"
	claimed := launch(t, b, next).(*instance)
	if !claimed.ahead || claimed.cid != sb.id {
		t.Fatalf("second launch: ahead %v container %s, want the sandbox %s", claimed.ahead, trimID(claimed.cid), trimID(sb.id))
	}
	if d := claimed.InitDuration(); d <= 0 {
		t.Errorf("Init Duration %v", d)
	}
	_, body, err := invoke(t, claimed, `{"read":["/proc/self/environ"],"write":["/var/task/app.py"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	env, _ := got["/proc/self/environ"].(string)
	if !strings.Contains(env, "AWS_LAMBDA_LOG_STREAM_NAME=2026/12/04/[$LATEST]claimed\x00") ||
		!strings.Contains(env, "AWS_LAMBDA_FUNCTION_NAME=fn\x00") {
		t.Errorf("runtime environment lacks the instance's: %q", env)
	}
	if strings.Contains(env, agentapi.EnvSecret) {
		t.Errorf("the agent's secret reached the runtime: %q", env)
	}
	if w, _ := got["/var/task/app.py"].(string); !strings.HasPrefix(w, "error:") {
		t.Errorf("writing the code: %q, want an error (read-only)", w)
	}

	// The claim started the next one; another memory size is another
	// container and does not take it.
	sb2 := waitAhead(t, b, sb.id)
	other := testSpec(t, "python3.12", "app.handler", code)
	other.MemoryMB = 512
	if in := launch(t, b, other).(*instance); in.ahead || in.cid == sb2.id {
		t.Errorf("a launch with other limits claimed the sandbox %s", trimID(sb2.id))
	}

	// A spare killed behind lamb's back: the next launch still works.
	if err := b.cli.ContainerKill(ctx, sb2.id, "KILL"); err != nil {
		t.Fatal(err)
	}
	after := launch(t, b, testSpec(t, "python3.12", "app.handler", code)).(*instance)
	if _, _, err := invoke(t, after, `{}`); err != nil {
		t.Fatalf("invoke after the sandbox started ahead died: %v", err)
	}
	if after.cid == sb2.id {
		t.Error("a launch claimed a killed sandbox")
	}

	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, after)
	if n := countContainers(t, b, b.cfg.ServerID); n != 0 {
		t.Errorf("%d containers after Close", n)
	}
}

// children lists the command lines of pid's child processes.
func children(t *testing.T, pid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			cmd, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "cmdline"))
			out = append(out, strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}

// TestSparesReplaceOldest: at max spares, a new key's replaces the oldest,
// whose container is removed.
func TestSparesReplaceOldest(t *testing.T) {
	b := newTestBackend(t)
	_, images, _ := setup(t)
	s := newSpares(b, "test spare", 2, 0)
	t.Cleanup(func() { s.close(context.Background()) })
	start := b.holderFor(images["python"])
	<-s.refill("a", start)
	<-s.refill("b", start)
	s.mu.Lock()
	a := s.ready["a"]
	s.mu.Unlock()
	if a == nil || s.ready["b"] == nil {
		t.Fatal("spares a and b not ready")
	}
	<-s.refill("c", start)
	s.mu.Lock()
	keys := slices.Sorted(maps.Keys(s.ready))
	s.mu.Unlock()
	if !slices.Equal(keys, []string{"b", "c"}) {
		t.Errorf("ready %q, want b and c", keys)
	}
	if _, err := b.cli.ContainerInspect(context.Background(), a.id); err == nil {
		t.Error("the replaced spare's container is still there")
	}
}

// TestAheadCollected: collecting the code of a function that is gone removes
// its sandbox started ahead too, and then its code volume.
func TestAheadCollected(t *testing.T) {
	b := newTestBackendAs(t, "test-"+randomID(), func(c *Config) { c.StartAhead = true })
	ctx := context.Background()
	// Unique code: a volume another test's server made is not this one's to collect.
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp + "\n# " + randomID() + "\n"})
	in := launch(t, b, testSpec(t, "python3.12", "app.handler", code)).(*instance)
	sb := waitAhead(t, b, "")
	if err := in.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, in)
	busy, err := b.CollectArtifacts(ctx, func(string) bool { return false })
	if err != nil || busy != 0 {
		t.Fatalf("collect: %d busy, %v", busy, err)
	}
	if _, err := b.cli.ContainerInspect(ctx, sb.id); err == nil {
		t.Error("the sandbox started ahead outlived its code")
	}
	if len(sb.volumes) == 0 {
		t.Fatal("the sandbox lists no code volume")
	}
	if _, err := b.cli.VolumeInspect(ctx, sb.volumes[0]); err == nil {
		t.Errorf("code volume %s not collected", sb.volumes[0])
	}
}

// TestPrepare: a function's first launch claims the sandbox Prepare started
// for it (as after CreateFunction), with its own environment.
func TestPrepare(t *testing.T) {
	b := newTestBackendAs(t, "test-"+randomID(), func(c *Config) { c.StartAhead = true })
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	placeholder := testSpec(t, "python3.12", "app.handler", code)
	placeholder.Env["AWS_LAMBDA_LOG_STREAM_NAME"] = "placeholder"
	if err := b.Prepare(context.Background(), placeholder); err != nil {
		t.Fatal(err)
	}
	sb := waitAhead(t, b, "")
	spec := testSpec(t, "python3.12", "app.handler", code)
	spec.Env["AWS_LAMBDA_LOG_STREAM_NAME"] = "first"
	in := launch(t, b, spec).(*instance)
	if !in.ahead || in.cid != sb.id {
		t.Fatalf("first launch: ahead %v container %s, want the prepared %s", in.ahead, trimID(in.cid), trimID(sb.id))
	}
	_, body, err := invoke(t, in, `{"read":["/proc/self/environ"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "AWS_LAMBDA_LOG_STREAM_NAME=first") || strings.Contains(string(body), "placeholder") {
		t.Errorf("runtime environment: %s", body)
	}
}
