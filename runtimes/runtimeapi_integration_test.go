package runtimes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/lambhq/lamb/runtimeapi"
	"github.com/lambhq/lamb/runtimes"
)

// These tests run our bootstraps against lamb's real Runtime API server
// (package runtimeapi) instead of the fake in harness_test.go.

type realAPI struct {
	srv  *runtimeapi.Server
	addr string
	gate chan struct{}
}

func startReal(t *testing.T, family, handler string, files map[string]string) *realAPI {
	t.Helper()
	bin := map[string]string{runtimes.FamilyPython: "python3", runtimes.FamilyNodejs: "node"}[family]
	binPath := testenv.LookPath(t, bin)
	api := &realAPI{srv: runtimeapi.NewServer(runtimeapi.Options{}), gate: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/2018-06-01/", api.srv.Handler())
	mux.HandleFunc("GET /gate", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-api.gate:
		case <-r.Context().Done():
		}
	})
	hs := httptest.NewServer(mux)
	api.addr = strings.TrimPrefix(hs.URL, "http://")

	argv, taskRoot := runtimes.BootstrapCommand(t, family, runtimes.Interpreters{Python: binPath, Node: binPath}, files)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+api.addr, "_HANDLER="+handler, "LAMBDA_TASK_ROOT="+taskRoot)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed by cancel; its error is expected
		_ = api.srv.Close()
		hs.Close()
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", out.String())
		}
	})
	return api
}

func (a *realAPI) invoke(t *testing.T, id, payload string) *runtimeapi.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	resp, err := a.srv.Invoke(ctx, &runtimeapi.Invocation{RequestID: id, Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRealRuntimeAPIPython(t *testing.T) {
	api := startReal(t, runtimes.FamilyPython, "app.handler", map[string]string{"app.py": `
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"echo": event["msg"], "id": context.aws_request_id}
`})
	resp := api.invoke(t, "r-1", `{"msg":"héllo ✓"}`)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorType != "" || string(body) != `{"echo": "héllo ✓", "id": "r-1"}` {
		t.Errorf("response %q, error type %q", body, resp.ErrorType)
	}

	resp = api.invoke(t, "r-2", `{"fail":true}`)
	body, _ = io.ReadAll(resp.Body)
	if resp.ErrorType != "RuntimeError" {
		t.Errorf("error type = %q", resp.ErrorType)
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || e["errorMessage"] != "asked to fail" || e["requestId"] != "r-2" {
		t.Errorf("error body = %s (%v)", body, err)
	}
}

func TestRealRuntimeAPIInitError(t *testing.T) {
	api := startReal(t, runtimes.FamilyPython, "nope.handler", nil)
	select {
	case ie := <-api.srv.InitErr():
		if ie.Type != "Runtime.ImportModuleError" || !bytes.Contains(ie.Body, []byte("Unable to import module 'nope'")) {
			t.Errorf("init error = %s %s", ie.Type, ie.Body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no init error")
	}
}

func TestRealRuntimeAPINodeStreaming(t *testing.T) {
	const src = `
const gate = () => fetch("http://" + process.env.AWS_LAMBDA_RUNTIME_API + "/gate").then((r) => r.text());
export const handler = awslambda.streamifyResponse(async (event, stream) => {
  stream.write("first;");
  await gate();
  stream.write("second;");
  if (event.fail) throw new Error("broke mid-stream");
  stream.end();
});
`
	tests := []struct {
		name      string
		payload   string
		wantType  string
		wantInErr string
	}{
		{"clean", `{}`, "", ""},
		{"mid-stream error", `{"fail":true}`, "Error", "broke mid-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := startReal(t, runtimes.FamilyNodejs, "app.handler", map[string]string{"app.mjs": src})
			resp := api.invoke(t, "s-1", tc.payload)
			if !resp.Streaming {
				t.Fatal("response not streaming")
			}
			// The handler is parked on the gate, so this chunk was sent before it finished.
			buf := make([]byte, 64)
			n, err := resp.Body.Read(buf)
			if err != nil || string(buf[:n]) != "first;" {
				t.Fatalf("first read = %q, %v", buf[:n], err)
			}
			close(api.gate)
			rest, err := io.ReadAll(resp.Body)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if string(rest) != "second;" {
				t.Errorf("rest = %q", rest)
			}
			typ, body := resp.Trailer()
			if typ != tc.wantType || !strings.Contains(string(body), tc.wantInErr) {
				t.Errorf("trailer = %q %s", typ, body)
			}
		})
	}
}
