package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/lambhq/lamb/agent"
	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/runtimes"
)

const app = `import os, sys, urllib.request
def handler(event, context):
    if "fetch" in event:
        with urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + event["fetch"], timeout=10) as r:
            return {"got": r.read().decode()}
    for line in event.get("log", []):
        print(line)
    if "exit" in event:
        sys.stdout.flush()
        os._exit(event["exit"])
    if "error" in event:
        raise ValueError(event["error"])
    if "getenv" in event:
        return {k: os.environ.get(k) for k in event["getenv"]}
    return event
`

// testSecret is the secret the tests' agents are given.
const testSecret = "s3cret-for-tests"

// pythonApp writes lamb's python bootstrap and app to a new folder and
// listens for an agent's host API; it returns python3's path, the folder, the
// bootstrap's file name and the listener.
func pythonApp(t *testing.T) (py, dir, boot string, ln net.Listener) {
	t.Helper()
	py = testenv.LookPath(t, "python3")
	dir = t.TempDir()
	boot, code, _ := runtimes.Bootstrap(runtimes.FamilyPython)
	if err := os.WriteFile(filepath.Join(dir, boot), code, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return py, dir, boot, ln
}

// runAgent runs the agent with cfg until the test ends; Run's status
// arrives on the channel returned.
func runAgent(t *testing.T, cfg agent.Config) <-chan int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	codes, done := make(chan int, 1), make(chan struct{})
	go func() {
		defer close(done)
		code, _ := agent.Run(ctx, cfg)
		codes <- code
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return codes
}

// startAgent runs the agent on the host with lamb's python bootstrap and
// returns a client, the event stream and the channel Run's result arrives on.
func startAgent(t *testing.T, handler string, try []string) (*agentapi.Client, *agentapi.EventStream, <-chan int, string) {
	t.Helper()
	return startAgentEndpoint(t, handler, try, nil)
}

// startAgentEndpoint is startAgent with the agent serving lamb's API on ep.
func startAgentEndpoint(t *testing.T, handler string, try []string, ep net.Listener) (*agentapi.Client, *agentapi.EventStream, <-chan int, string) {
	t.Helper()
	py, dir, name, ln := pythonApp(t)
	cfg := agent.Config{Listener: ln, EndpointListener: ep, Dir: dir, Try: try, ExitGrace: 10 * time.Second,
		Secret: testSecret,
		// The secret in the environment given must not reach the runtime.
		Env: []string{"_HANDLER=" + handler, "LAMBDA_TASK_ROOT=" + dir, "PATH=" + os.Getenv("PATH"), agentapi.EnvSecret + "=" + testSecret}}
	if ep != nil {
		cfg.Env = append(cfg.Env, "AWS_ENDPOINT_URL=http://"+ep.Addr().String())
	}
	if try == nil {
		cfg.Command = []string{py, "-u", filepath.Join(dir, name)}
	}
	codes := runAgent(t, cfg)
	c := agentapi.NewClient(ln.Addr().String(), testSecret)
	es, err := c.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	return c, es, codes, ln.Addr().String()
}

// next returns the next event that is not a log line, collecting log lines.
func next(t *testing.T, es *agentapi.EventStream, lines *[]string) *agentapi.Event {
	t.Helper()
	for {
		ev, err := es.Next()
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		if ev.Type != agentapi.EventLog {
			return ev
		}
		if lines != nil {
			*lines = append(*lines, string(ev.Line))
		}
	}
}

func call(t *testing.T, c *agentapi.Client, payload string) (*agentapi.Response, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.Invoke(ctx, &agentapi.Invocation{RequestID: "r-" + payload[:3], Payload: []byte(payload), Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestInvokeLogsAndExit(t *testing.T) {
	c, es, codes, addr := startAgent(t, "app.handler", nil)
	if ev := next(t, es, nil); ev.Type != agentapi.EventReady || ev.InitDuration <= 0 {
		t.Fatalf("first event %+v, want ready", ev)
	}
	for i, payload := range []string{`{"log":["one","two"]}`, `{"log":["three"]}`} {
		resp, body, err := call(t, c, payload)
		if err != nil {
			t.Fatal(err)
		}
		var got, want any
		_ = json.Unmarshal([]byte(body), &got)
		_ = json.Unmarshal([]byte(payload), &want)
		if resp.ErrorType != "" || !jsonEqual(got, want) {
			t.Fatalf("call %d: %q %s", i, resp.ErrorType, body)
		}
		log, seq := resp.Log()
		wantLog := map[int]string{0: "one\ntwo\n", 1: "three\n"}[i]
		if string(log) != wantLog || seq == 0 {
			t.Errorf("call %d: log %q seq %d, want %q", i, log, seq, wantLog)
		}
	}
	resp, body, err := call(t, c, `{"error":"bad"}`)
	if err != nil || resp.ErrorType == "" || !strings.Contains(body, "bad") {
		t.Fatalf("error call: %v %q %s", err, resp.ErrorType, body)
	}

	// The runtime exiting mid-call: the call fails as an exit, the stream
	// ends with the exit event, the agent exits with the runtime's status.
	_, _, err = call(t, c, `{"log":["bye"],"exit":3}`)
	if !errors.Is(err, agentapi.ErrRuntimeExited) {
		t.Errorf("exit call: %v, want ErrRuntimeExited", err)
	}
	var lines []string
	ev := next(t, es, &lines)
	if ev.Type != agentapi.EventExit || ev.Code != 3 || !strings.Contains(string(ev.Tail), "bye") {
		t.Fatalf("exit event %+v", ev)
	}
	if code := <-codes; code != 3 {
		t.Errorf("agent exit status %d, want 3", code)
	}
	// A new connection is refused: provably not delivered.
	if _, _, err := call(t, agentapi.NewClient(addr, testSecret), `{"late":1}`); !errors.Is(err, agentapi.ErrNotDelivered) {
		t.Errorf("call after exit: %v, want ErrNotDelivered", err)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestInitErrors(t *testing.T) {
	cases := []struct {
		name, handler string
		try           []string
		wantType      string
	}{
		{"import", "nosuch.handler", nil, "Runtime.ImportModuleError"},
		{"no bootstrap", "app.handler", []string{"/nonexistent/bootstrap"}, "Runtime.InvalidEntrypoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, es, _, _ := startAgent(t, tc.handler, tc.try)
			ev := next(t, es, nil)
			if ev.Type != agentapi.EventInitError || ev.ErrorType != tc.wantType {
				t.Fatalf("event %+v, want initError %s", ev, tc.wantType)
			}
			if ev := next(t, es, nil); ev.Type != agentapi.EventExit {
				t.Fatalf("event %+v, want exit", ev)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	c, es, codes, _ := startAgent(t, "app.handler", nil)
	if ev := next(t, es, nil); ev.Type != agentapi.EventReady {
		t.Fatalf("event %+v", ev)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := <-codes; code != 0 {
		t.Errorf("exit status %d after shutdown", code)
	}
}

// TestEndpoint: the function reaches "lamb's API" at AWS_ENDPOINT_URL on its
// loopback, through a tunnel the host opens when the event stream asks.
func TestEndpoint(t *testing.T) {
	epLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, es, _, _ := startAgentEndpoint(t, "app.handler", nil, epLn)
	if ev := next(t, es, nil); ev.Type != agentapi.EventReady {
		t.Fatalf("first event %+v, want ready", ev)
	}
	api := agentapi.NewListener(nil)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "lamb says "+r.URL.Path)
	})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(api) }()
	go func() { // the host's side of the event stream
		defer wg.Done()
		var tunnels sync.WaitGroup
		defer tunnels.Wait()
		for {
			ev, err := es.Next()
			if err != nil {
				return
			}
			if ev.Type == agentapi.EventTunnel {
				tunnels.Add(1)
				go func() {
					defer tunnels.Done()
					if tc, err := c.Tunnel(ctx, ev.Tunnel); err == nil {
						_ = api.Deliver(ctx, tc)
					}
				}()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		es.Close()
		_ = srv.Close()
		wg.Wait()
	})
	for i := range 2 {
		_, body, err := call(t, c, `{"fetch":"/2015-03-31/functions/"}`)
		if err != nil || body != `{"got": "lamb says /2015-03-31/functions/"}` {
			t.Fatalf("call %d: %s, %v", i, body, err)
		}
	}
}

// TestSecret: the agent answers only requests that carry its secret; those
// without get 401 or 403 and change nothing (the host's event stream is not
// taken over, the runtime is not stopped), and the runtime never sees the
// secret.
func TestSecret(t *testing.T) {
	c, es, codes, addr := startAgent(t, "app.handler", nil)
	if ev := next(t, es, nil); ev.Type != agentapi.EventReady {
		t.Fatalf("first event %+v, want ready", ev)
	}
	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"events without a secret", http.MethodGet, agentapi.PathEvents, "", http.StatusUnauthorized},
		{"events with another secret", http.MethodGet, agentapi.PathEvents, "Bearer nope", http.StatusForbidden},
		{"invoke without a secret", http.MethodPost, agentapi.PathInvoke, "", http.StatusUnauthorized},
		{"invoke with the secret as a basic password", http.MethodPost, agentapi.PathInvoke, "Basic " + testSecret, http.StatusForbidden},
		{"invoke with a prefix of the secret", http.MethodPost, agentapi.PathInvoke, "Bearer " + testSecret[:4], http.StatusForbidden},
		{"tunnel without a secret", http.MethodPost, agentapi.PathTunnel, "", http.StatusUnauthorized},
		{"shutdown without a secret", http.MethodPost, agentapi.PathShutdown, "", http.StatusUnauthorized},
		{"shutdown with another secret", http.MethodPost, agentapi.PathShutdown, "Bearer " + testSecret + "x", http.StatusForbidden},
		{"an unknown path", http.MethodGet, "/nope", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://"+addr+tt.path, strings.NewReader(`{"x":1}`))
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	_, body, err := call(t, c, `{"getenv":["`+agentapi.EnvSecret+`","_HANDLER"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"` + agentapi.EnvSecret + `": null, "_HANDLER": "app.handler"}`; body != want {
		t.Errorf("runtime's environment %s, want %s", body, want)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, es, nil); ev.Type != agentapi.EventExit {
		t.Fatalf("event %+v after shutdown, want exit on the host's own stream", ev)
	}
	if code := <-codes; code != 0 {
		t.Errorf("exit status %d after shutdown", code)
	}
}

func TestRunNeedsSecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if code, err := agent.Run(context.Background(), agent.Config{Listener: ln, Command: []string{"true"}}); err == nil || code == 0 {
		t.Fatalf("Run without a secret: %d, %v; want a refusal", code, err)
	}
}

// A deferred agent starts its runtime only at POST /v1/start, with the
// environment it delivers laid over its own, and only once.
func TestDeferredStart(t *testing.T) {
	py, dir, name, ln := pythonApp(t)
	cfg := agent.Config{Listener: ln, Dir: dir, Secret: testSecret, Deferred: true, ExitGrace: 10 * time.Second,
		Command: []string{py, "-u", filepath.Join(dir, name)},
		Env: []string{"_HANDLER=wrong.handler", "LAMBDA_TASK_ROOT=" + dir, "PATH=" + os.Getenv("PATH"),
			"KEPT=image", agentapi.EnvSecret + "=" + testSecret}}
	runAgent(t, cfg)
	c := agentapi.NewClient(ln.Addr().String(), testSecret)
	es, err := c.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })

	// Nothing runs before the start: an invocation is refused as not delivered.
	if _, _, err := call(t, c, `{"early":1}`); !errors.Is(err, agentapi.ErrNotDelivered) {
		t.Fatalf("invoke before start: %v, want ErrNotDelivered", err)
	}
	if err := agentapi.NewClient(ln.Addr().String(), "other").Start(context.Background(), nil); err == nil {
		t.Fatal("a start with another secret was taken")
	}
	if err := c.Start(context.Background(), []string{"_HANDLER=app.handler", "ADDED=claim",
		agentapi.EnvSecret + "=leak"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("second start: %v, want 409", err)
	}
	if ev := next(t, es, nil); ev.Type != agentapi.EventReady {
		t.Fatalf("event %+v, want ready", ev)
	}
	_, body, err := call(t, c, `{"getenv":["_HANDLER","ADDED","KEPT","`+agentapi.EnvSecret+`"]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_HANDLER": "app.handler", "ADDED": "claim", "KEPT": "image", "` + agentapi.EnvSecret + `": null}`
	var got, w any
	_ = json.Unmarshal([]byte(body), &got)
	_ = json.Unmarshal([]byte(want), &w)
	if !jsonEqual(got, w) {
		t.Errorf("runtime environment %s, want %s", body, want)
	}
}
