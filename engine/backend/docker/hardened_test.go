package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend/backendtest"
)

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
