package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

// TestHardened: containers are locked down like AWS's sandboxes, as the
// engine reports them and as the function sees itself: a non-root user, no
// capabilities, no-new-privileges, a process limit; /var/task readable and
// /tmp writable by that user.
func TestHardened(t *testing.T) {
	b := newTestBackend(t)
	_, images, _ := setup(t)
	// A spare holder first, so that the instance joins one and both kinds of
	// container are checked.
	if err := b.Prepull(context.Background(), images["python"], nil); err != nil {
		t.Fatal(err)
	}
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	in := launch(t, b, testSpec(t, "python3.12", "app.handler", code)).(*instance)
	if in.holder == "" {
		t.Fatal("the instance took no spare network holder")
	}

	containers := []struct{ name, id string }{{"instance", in.cid}, {"network holder", in.holder}}
	for _, c := range containers {
		t.Run("inspect "+c.name, func(t *testing.T) {
			ci, err := b.cli.ContainerInspect(context.Background(), c.id)
			if err != nil {
				t.Fatal(err)
			}
			if ci.Config.User != sandboxUser {
				t.Errorf("User %q, want %q", ci.Config.User, sandboxUser)
			}
			if drop := []string(ci.HostConfig.CapDrop); !droppedAll(drop, b.podman) {
				t.Errorf("CapDrop %v, want ALL", drop)
			}
			if len(ci.HostConfig.CapAdd) != 0 || ci.HostConfig.Privileged {
				t.Errorf("CapAdd %v, Privileged %v", ci.HostConfig.CapAdd, ci.HostConfig.Privileged)
			}
			if opts := ci.HostConfig.SecurityOpt; !slices.Contains(opts, "no-new-privileges") && !slices.Contains(opts, "no-new-privileges:true") {
				t.Errorf("SecurityOpt %v, want no-new-privileges", opts)
			}
			if ci.HostConfig.PidsLimit == nil || *ci.HostConfig.PidsLimit != pidsLimit {
				t.Errorf("PidsLimit %v, want %d", ci.HostConfig.PidsLimit, pidsLimit)
			}
		})
	}

	_, body, err := invoke(t, in, `{"ids":true,
		"read":["/proc/self/status","/sys/fs/cgroup/pids.max","/sys/fs/cgroup/pids/pids.max","/var/task/app.py","/proc/1/environ"],
		"write":["/tmp/probe","/var/task/new"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	wantIDs := fmt.Sprint([]any{agenthost.UID, agenthost.UID, agenthost.GID, agenthost.GID, []any{agenthost.GID}})
	if ids := fmt.Sprint(got["ids"]); ids != wantIDs {
		t.Errorf("uid, euid, gid, egid, groups = %s, want %s", ids, wantIDs)
	}
	status := fmt.Sprint(got["/proc/self/status"])
	for _, field := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if v := statusField(status, field); v != "0000000000000000" {
			t.Errorf("%s %q, want none", field, v)
		}
	}
	if v := statusField(status, "NoNewPrivs"); v != "1" {
		t.Errorf("NoNewPrivs %q, want 1", v)
	}
	if v := statusField(status, "Seccomp"); v != "2" { // filtered: the engine's default profile
		t.Errorf("Seccomp %q, want 2 (a filter)", v)
	}
	pids := got["/sys/fs/cgroup/pids.max"] // cgroup v2, else v1's pids controller
	if s, _ := pids.(string); strings.HasPrefix(s, "error:") {
		pids = got["/sys/fs/cgroup/pids/pids.max"]
	}
	if p := strings.TrimSpace(fmt.Sprint(pids)); p != strconv.Itoa(pidsLimit) {
		t.Errorf("the function's pids.max %q, want %d", p, pidsLimit)
	}
	want := map[string]any{
		"/var/task/app.py": probeApp, "/tmp/probe": "written", "/var/task/new": "error: OSError",
		// The agent is not dumpable: its environment (which had the secret)
		// is not the function's to read.
		"/proc/1/environ": "error: PermissionError",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %.80v, want %v", k, got[k], v)
		}
	}
}

// droppedAll reports whether an inspected CapDrop says all capabilities
// were dropped. Docker reports what was asked, "ALL"; Podman lists the
// capabilities of its default set, which it dropped: at least these (what the
// function sees itself, CapBnd, is checked too).
func droppedAll(drop []string, podman bool) bool {
	if slices.Equal(drop, []string{"ALL"}) {
		return true
	}
	if !podman {
		return false
	}
	for _, c := range []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID"} {
		if !slices.Contains(drop, c) && !slices.Contains(drop, "CAP_"+c) {
			return false
		}
	}
	return true
}

// statusField returns a field of /proc/<pid>/status.
func statusField(status, name string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestAgentSecret: an agent answers only the backend that started it. A
// request without its secret, or with another, from a function in another
// container on the same network, from the function in the agent's own
// container, or from the host, is refused and changes nothing; the function
// never sees the secret.
func TestAgentSecret(t *testing.T) {
	b := newTestBackend(t)
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": probeApp})
	victim := launch(t, b, testSpec(t, "python3.12", "app.handler", code)).(*instance)
	neighbour := launch(t, b, testSpec(t, "python3.12", "app.handler", code)).(*instance)

	// The victim's secret, as lamb gave it.
	ci, err := b.cli.ContainerInspect(context.Background(), victim.cid)
	if err != nil {
		t.Fatal(err)
	}
	secret := ""
	for _, kv := range ci.Config.Env {
		if v, ok := strings.CutPrefix(kv, agentapi.EnvSecret+"="); ok {
			secret = v
		}
	}
	if len(secret) < 20 {
		t.Fatalf("the victim's container has no secret in its environment: %q", ci.Config.Env)
	}

	victimURL := "http://" + victim.addr
	ownURL := "http://127.0.0.1:" + strconv.Itoa(agentPort) // the neighbour's own agent
	tests := []struct {
		name, url, method, path, auth string
		want                          int
	}{
		{"neighbour invokes", victimURL, http.MethodPost, agentapi.PathInvoke, "", http.StatusUnauthorized},
		{"neighbour invokes with a guessed secret", victimURL, http.MethodPost, agentapi.PathInvoke, "Bearer " + agentapi.NewSecret(), http.StatusForbidden},
		{"neighbour takes the event stream", victimURL, http.MethodGet, agentapi.PathEvents, "", http.StatusUnauthorized},
		{"neighbour asks for a tunnel", victimURL, http.MethodPost, agentapi.PathTunnel, "", http.StatusUnauthorized},
		{"neighbour shuts it down", victimURL, http.MethodPost, agentapi.PathShutdown, "", http.StatusUnauthorized},
		{"a function invokes its own agent", ownURL, http.MethodPost, agentapi.PathInvoke, "", http.StatusUnauthorized},
		{"a function shuts its own agent down", ownURL, http.MethodPost, agentapi.PathShutdown, "Bearer x", http.StatusForbidden},
	}
	var reqs []map[string]any
	for i, tt := range tests {
		h := map[string]string{}
		if tt.auth != "" {
			h["Authorization"] = tt.auth
		}
		reqs = append(reqs, map[string]any{"name": strconv.Itoa(i), "url": tt.url + tt.path, "method": tt.method, "headers": h})
	}
	event, _ := json.Marshal(map[string]any{"http": reqs, "env": []string{agentapi.EnvSecret}, "read": []string{"/proc/1/cmdline"}})
	_, body, err := invoke(t, neighbour, string(event))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := fmt.Sprint(got[strconv.Itoa(i)]); s != strconv.Itoa(tt.want) {
				t.Errorf("status %s, want %d", s, tt.want)
			}
		})
	}
	if env, _ := got["env"].(map[string]any); env[agentapi.EnvSecret] != nil {
		t.Errorf("the function sees %s=%v", agentapi.EnvSecret, env[agentapi.EnvSecret])
	}
	if strings.Contains(string(body), secret) {
		t.Errorf("the neighbour's answer holds the victim's secret: %s", body)
	}

	// From the host, at the right address, without the secret.
	for _, path := range []string{agentapi.PathInvoke, agentapi.PathShutdown} {
		resp, err := http.Post(victimURL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("host %s without the secret: %s, want 401", path, resp.Status)
		}
	}

	// Nothing of that reached the victim: it runs, its event stream is lamb's
	// still, and it answers lamb.
	select {
	case <-victim.Done():
		t.Fatalf("the victim ended: %v", victim.ExitErr())
	default:
	}
	if _, body, err := invoke(t, victim, `{"env":["AWS_LAMBDA_FUNCTION_NAME"]}`); err != nil || !strings.Contains(string(body), `"fn"`) {
		t.Fatalf("the victim after the attempts: %s, %v", body, err)
	}
}
