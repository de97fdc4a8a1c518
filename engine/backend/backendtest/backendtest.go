// Package backendtest is the conformance suite every lamb backend passes: the
// same behaviours driven through the backend.Backend interface with real
// runtimes — a provided.al2023 function built with AWS's aws-lambda-go, lamb's
// python bootstrap and, when asked, its node bootstrap.
//
// A backend's test calls Run:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend { ... }, backendtest.Options{Python: true})
//	}
//
// The stream cases have the function call the test over HTTP. A backend
// whose sandboxes reach lamb's API through the agent's tunnels sets
// Options.API, and the function calls AWS_ENDPOINT_URL; one whose sandboxes
// can reach an address of the host sets Options.HostAddr to it.
//
// Run needs the Go toolchain (it builds the aws-lambda-go function) and the
// package's source tree (testdata/goecho).
package backendtest

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
)

// Options selects the cases a backend can run.
type Options struct {
	Python bool // run the python cases (lamb's python bootstrap)
	Node   bool // run the node streaming case (lamb's node bootstrap)
	// Timeout bounds each case (default 60 s).
	Timeout time.Duration
	// HostAddr is an IP address of this host that the backend's sandboxes can
	// reach, such as a container network's gateway or, for Pods, the node's
	// address. The stream cases serve an HTTP endpoint there that the function
	// calls between its two chunks, so they work for isolated backends too.
	// Default 127.0.0.1 (the process backend). It is listened on only after
	// the case's instance was launched, so an address that exists only once a
	// sandbox runs (a bridge created on demand) works.
	HostAddr string
	// API, when set, returns the Listener the backend b (made by newBackend)
	// hands its sandboxes' tunnels to: the stream cases then serve the
	// signal there, and the function calls it at agentapi.EndpointURL, so
	// the tunnels are exercised and no address of the host is needed.
	API func(b backend.Backend) *agentapi.Listener
}

// Run runs the conformance suite. newBackend returns a fresh backend for each
// case; Run closes it.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend, opts Options) {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.HostAddr == "" {
		opts.HostAddr = "127.0.0.1"
	}
	goZip := buildGoEcho(t)
	h := &harness{newBackend: newBackend, opts: opts, goZip: goZip}

	t.Run("go/echo", h.goEcho)
	t.Run("go/context", h.goContext)
	t.Run("go/error", h.goError)
	t.Run("go/exit-mid-call", h.goExit)
	t.Run("go/exit-at-init", h.goExitAtInit)
	t.Run("go/stream", h.goStream)
	t.Run("go/stop", h.goStop)
	t.Run("go/ctx-ends", h.goCtxEnds)
	t.Run("go/log-per-invocation", h.goLogPerInvocation)
	if opts.Python {
		t.Run("python/echo-env-layers", h.pythonEcho)
		t.Run("python/error", h.pythonError)
		t.Run("python/init-error", h.pythonInitError)
		t.Run("python/log-drained", h.pythonLogDrained)
	}
	if opts.Node {
		t.Run("node/stream", h.nodeStream)
	}
}

type harness struct {
	newBackend func(t *testing.T) backend.Backend
	opts       Options
	goZip      backend.Artifact
}

var instanceSeq atomic.Int64

// launch starts an instance of spec on a fresh backend and stops it at the
// end of the test.
func (h *harness) launch(t *testing.T, spec *backend.Spec) (backend.Backend, backend.Instance) {
	t.Helper()
	b := h.newBackend(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close backend: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	in, err := b.Launch(ctx, spec)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	return b, in
}

func newSpec(runtime, handler string, code backend.Artifact) *backend.Spec {
	id := fmt.Sprintf("bt-%d-%d", os.Getpid(), instanceSeq.Add(1))
	return &backend.Spec{
		InstanceID: id, PoolKey: "pool", ServerID: "backendtest",
		FunctionName: "fn", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn", Version: "$LATEST",
		PackageType: "Zip", Runtime: runtime, Handler: handler, Architecture: "x86_64",
		MemoryMB: 256, EphemeralStorageMB: 512, Timeout: 30 * time.Second,
		Env: map[string]string{
			"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
			"AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
			"AWS_REGION":                 "us-east-1", "_HANDLER": handler, "GREETING": "hello",
		},
		Code: code,
	}
}

func (h *harness) invoke(t *testing.T, in backend.Instance, id string, payload string, stream bool) (*backend.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	resp, err := in.Invoke(ctx, &backend.Invocation{
		RequestID: id, Payload: []byte(payload), Deadline: time.Now().Add(h.opts.Timeout),
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:fn:live", StreamResponse: stream,
	})
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, body, err
}

func (h *harness) goEcho(t *testing.T) {
	_, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	if in.InitDuration() <= 0 {
		t.Errorf("InitDuration = %v", in.InitDuration())
	}
	for i := range 3 {
		payload := fmt.Sprintf(`{"n":%d,"text":"héllo"}`, i)
		resp, body, err := h.invoke(t, in, fmt.Sprintf("req-%d", i), payload, false)
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		if resp.ErrorType != "" || string(body) != payload {
			t.Fatalf("invoke %d: error type %q body %q", i, resp.ErrorType, body)
		}
	}
}

func (h *harness) goContext(t *testing.T) {
	_, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	_, body, err := h.invoke(t, in, "ctx-req-1", `{"context":true}`, false)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RequestID, Arn, Function string
		HasDeadline              bool
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if got.RequestID != "ctx-req-1" || got.Arn != "arn:aws:lambda:us-east-1:000000000000:function:fn:live" || !got.HasDeadline || got.Function != "fn" {
		t.Errorf("context seen by the function: %+v", got)
	}
}

func (h *harness) goError(t *testing.T) {
	_, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	resp, body, err := h.invoke(t, in, "err-req", `{"error":"it broke"}`, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if resp.ErrorType == "" || doc.ErrorMessage != "it broke" || doc.ErrorType != "errorString" {
		t.Errorf("error type %q, document %s", resp.ErrorType, body)
	}
	// The instance keeps serving after a handler error.
	if _, body, err := h.invoke(t, in, "after", `{"ok":1}`, false); err != nil || string(body) != `{"ok":1}` {
		t.Fatalf("after error: %s %v", body, err)
	}
}

func (h *harness) goExit(t *testing.T) {
	_, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	_, _, err := h.invoke(t, in, "exit-req", `{"log":["going down"],"exit":3}`, false)
	var xe *backend.ExitError
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v, want *backend.ExitError", err)
	}
	if xe.Code != 3 || xe.OOM || !bytes.Contains(xe.Log, []byte("going down")) {
		t.Errorf("exit error %+v (log %q)", xe, xe.Log)
	}
	waitClosed(t, in.Done(), "Done after exit")
	_, _, err = h.invoke(t, in, "late", `{}`, false)
	if !errors.Is(err, backend.ErrNotDelivered) {
		t.Errorf("invoke after exit: %v, want ErrNotDelivered", err)
	}
}

func (h *harness) goExitAtInit(t *testing.T) {
	code := zipArtifact(t, map[string]zipFile{"bootstrap": {mode: 0o755, body: "#!/bin/sh\necho init failing\nexit 2\n"}})
	b := h.newBackend(t)
	defer b.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	_, err := b.Launch(ctx, newSpec("provided.al2023", "bootstrap", code))
	var xe *backend.ExitError
	if !errors.As(err, &xe) || xe.Code != 2 || !bytes.Contains(xe.Log, []byte("init failing")) {
		t.Fatalf("launch err = %#v, want *ExitError with code 2 and the output", err)
	}
}

func (h *harness) goStream(t *testing.T) {
	b, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	h.checkStream(t, b, in, "stream-req")
}

// checkStream invokes in, streaming, with {"wait": URL}: the function must
// stream "first", GET URL, then stream "second:" and the body it got. The
// first chunk has to arrive while the GET is held open, which proves the
// response is streamed rather than buffered.
func (h *harness) checkStream(t *testing.T, b backend.Backend, in backend.Instance, id string) {
	t.Helper()
	url, called, release := h.signal(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	resp, err := in.Invoke(ctx, &backend.Invocation{RequestID: id, Payload: []byte(`{"wait":"` + url + `"}`),
		Deadline: time.Now().Add(h.opts.Timeout), InvokedFunctionARN: "arn", StreamResponse: true})
	if err != nil {
		t.Fatal(describe(err))
	}
	defer resp.Body.Close()
	if !resp.Streaming {
		t.Fatal("response is not streaming")
	}
	first := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first" {
		t.Fatalf("first chunk %q: %v", first, err)
	}
	// The function reached the signal: it is still running, its answer open.
	select {
	case <-called:
	case <-ctx.Done():
		t.Fatalf("the function never called %s (HostAddr %s unreachable from the sandbox? API %v)", url, h.opts.HostAddr, h.opts.API != nil)
	}
	release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second:go" {
		t.Fatalf("rest %q: %v", rest, err)
	}
	if resp.Trailer != nil {
		if fe := resp.Trailer(); fe != nil {
			t.Errorf("unexpected trailer error %s: %s", fe.Type, fe.Body)
		}
	}
}

// signal serves one endpoint on b's Options.API listener, else on
// Options.HostAddr, until the test ends: a GET is reported on called and
// answered "go" once release was called. The server is shut down (and any
// GET still held aborted) at cleanup.
func (h *harness) signal(t *testing.T, b backend.Backend) (url string, called <-chan struct{}, release func()) {
	t.Helper()
	var ln net.Listener
	base := agentapi.EndpointURL
	if h.opts.API != nil {
		ln = h.opts.API(b)
	} else {
		tl, err := net.Listen("tcp", net.JoinHostPort(h.opts.HostAddr, "0"))
		if err != nil {
			t.Fatalf("listen on Options.HostAddr: %v", err)
		}
		ln, base = tl, "http://"+tl.Addr().String()
	}
	calledCh, released := make(chan struct{}, 1), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /signal", func(w http.ResponseWriter, r *http.Request) {
		select {
		case calledCh <- struct{}{}:
		default:
		}
		select {
		case <-released:
			_, _ = io.WriteString(w, "go")
		case <-r.Context().Done():
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() { close(released) })
		_ = srv.Close()
		<-served
	})
	return base + "/signal", calledCh, func() { once.Do(func() { close(released) }) }
}

func (h *harness) goStop(t *testing.T) {
	_, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	if err := in.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, in.Done(), "Done after Stop")
	if err := in.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, _, err := h.invoke(t, in, "late", `{}`, false); !errors.Is(err, backend.ErrNotDelivered) {
		t.Fatalf("invoke after Stop: %v, want ErrNotDelivered", err)
	}
}

func (h *harness) goCtxEnds(t *testing.T) {
	_, in := h.launch(t, newSpec("provided.al2023", "bootstrap", h.goZip))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := in.Invoke(ctx, &backend.Invocation{RequestID: "blocked", Payload: []byte(`{"block":true}`),
		Deadline: time.Now().Add(time.Second), InvokedFunctionARN: "arn"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	var xe *backend.ExitError
	if errors.As(err, &xe) {
		t.Fatalf("a timeout is not an exit: %v", err)
	}
	if err := in.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, in.Done(), "Done after Stop")
}

func (h *harness) goLogPerInvocation(t *testing.T) {
	var lines atomic.Int64
	spec := newSpec("provided.al2023", "bootstrap", h.goZip)
	spec.Log = func([]byte) { lines.Add(1) }
	_, in := h.launch(t, spec)
	for i := range 3 {
		mark := fmt.Sprintf("line of call %d", i)
		resp, _, err := h.invoke(t, in, fmt.Sprintf("log-%d", i), `{"log":["`+mark+`"]}`, false)
		if err != nil {
			t.Fatal(err)
		}
		log := string(resp.Log())
		if log != mark+"\n" {
			t.Errorf("call %d log = %q, want only its own line", i, log)
		}
	}
	if lines.Load() < 3 {
		t.Errorf("Spec.Log got %d lines, want at least 3", lines.Load())
	}
}

const pythonApp = `import json, os, sys
import greet

def handler(event, context):
    for line in event.get("log", []):
        print(line)
    if "error" in event:
        raise ValueError(event["error"])
    if "env" in event:
        return {k: os.environ.get(k) for k in event["env"]}
    if "tmp" in event:
        path = os.path.join(os.environ["TMPDIR"], "probe")
        with open(path, "w") as f:
            f.write("x")
        return {"tmp": os.environ["TMPDIR"], "greet": greet.hello(), "cwd": os.getcwd()}
    return event
`

func (h *harness) pythonZips(t *testing.T) (code, layer backend.Artifact) {
	code = zipArtifact(t, map[string]zipFile{"app.py": {mode: 0o644, body: pythonApp}})
	layer = zipArtifact(t, map[string]zipFile{"python/greet.py": {mode: 0o644, body: "def hello():\n    return 'from layer'\n"}})
	return code, layer
}

func (h *harness) pythonSpec(t *testing.T) *backend.Spec {
	code, layer := h.pythonZips(t)
	spec := newSpec("python3.12", "app.handler", code)
	spec.Layers = []backend.Artifact{layer}
	return spec
}

func (h *harness) pythonEcho(t *testing.T) {
	_, in := h.launch(t, h.pythonSpec(t))
	payload := `{"text": "héllo ☃"}`
	resp, body, err := h.invoke(t, in, "py-1", payload, false)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil || json.Unmarshal([]byte(payload), &want) != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if resp.ErrorType != "" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("echo: %q %s", resp.ErrorType, body)
	}

	_, body, err = h.invoke(t, in, "py-2", `{"env":["GREETING","AWS_LAMBDA_RUNTIME_API","LAMBDA_TASK_ROOT","_HANDLER"]}`, false)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if env["GREETING"] != "hello" || env["AWS_LAMBDA_RUNTIME_API"] == "" || env["LAMBDA_TASK_ROOT"] == "" || env["_HANDLER"] != "app.handler" {
		t.Errorf("environment %v", env)
	}

	_, body, err = h.invoke(t, in, "py-3", `{"tmp":true}`, false)
	if err != nil {
		t.Fatal(err)
	}
	var tmp struct{ Tmp, Greet, Cwd string }
	if err := json.Unmarshal(body, &tmp); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if tmp.Tmp == "" || tmp.Greet != "from layer" || tmp.Cwd != env["LAMBDA_TASK_ROOT"] {
		t.Errorf("tmp/layer/cwd: %+v (task root %q)", tmp, env["LAMBDA_TASK_ROOT"])
	}
}

func (h *harness) pythonError(t *testing.T) {
	_, in := h.launch(t, h.pythonSpec(t))
	resp, body, err := h.invoke(t, in, "py-err", `{"error":"bad value"}`, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ErrorMessage, ErrorType string
		StackTrace              []string
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if resp.ErrorType == "" || doc.ErrorType != "ValueError" || doc.ErrorMessage != "bad value" {
		t.Errorf("error type %q document %s", resp.ErrorType, body)
	}
}

func (h *harness) pythonInitError(t *testing.T) {
	code, _ := h.pythonZips(t)
	b := h.newBackend(t)
	defer b.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
	defer cancel()
	_, err := b.Launch(ctx, newSpec("python3.12", "nosuchmodule.handler", code))
	var ie *backend.InitError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *backend.InitError", err)
	}
	if ie.Type != "Runtime.ImportModuleError" || !bytes.Contains(ie.Body, []byte("nosuchmodule")) {
		t.Errorf("init error %q %s", ie.Type, ie.Body)
	}
}

// pythonLogDrained checks that everything the function printed before
// answering is in that invocation's log, even a burst larger than a pipe.
func (h *harness) pythonLogDrained(t *testing.T) {
	_, in := h.launch(t, h.pythonSpec(t))
	for call := range 3 {
		var lines []string
		for i := range 2000 {
			lines = append(lines, fmt.Sprintf("call %d line %d %s", call, i, strings.Repeat("x", 40)))
		}
		payload, _ := json.Marshal(map[string]any{"log": lines})
		resp, _, err := h.invoke(t, in, fmt.Sprintf("burst-%d", call), string(payload), false)
		if err != nil {
			t.Fatal(err)
		}
		log := string(resp.Log())
		last := lines[len(lines)-1] + "\n"
		if !strings.HasSuffix(log, last) {
			t.Fatalf("call %d: log does not end with the last line printed; tail %q", call, tail(log, 200))
		}
		if call > 0 && strings.Contains(log, fmt.Sprintf("call %d line", call-1)) {
			t.Fatalf("call %d: log holds the previous call's output", call)
		}
	}
}

// nodeApp streams as goecho does for {"wait": URL}.
const nodeApp = `export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  responseStream.write("first");
  const res = await fetch(event.wait);
  if (!res.ok) throw new Error("GET " + event.wait + ": " + res.status);
  responseStream.write("second:" + (await res.text()));
  responseStream.end();
});
`

func (h *harness) nodeStream(t *testing.T) {
	code := zipArtifact(t, map[string]zipFile{"index.mjs": {mode: 0o644, body: nodeApp}})
	b, in := h.launch(t, newSpec("nodejs22.x", "index.handler", code))
	h.checkStream(t, b, in, "node-stream")
}

// describe adds an exit's output to the error's text.
func describe(err error) string {
	var xe *backend.ExitError
	if errors.As(err, &xe) {
		return fmt.Sprintf("%v; output:\n%s", err, xe.Log)
	}
	return err.Error()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

type zipFile struct {
	mode os.FileMode
	body string
}

// zipArtifact builds a zip in memory and wraps it as an Artifact.
func zipArtifact(t *testing.T, files map[string]zipFile) backend.Artifact {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, f := range files {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
		hdr.SetMode(f.mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytesArtifact(buf.Bytes())
}

func bytesArtifact(data []byte) backend.Artifact {
	sum := sha256.Sum256(data)
	return backend.Artifact{
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}

// buildGoEcho builds testdata/goecho (aws-lambda-go) as a provided.al2023
// bootstrap and zips it.
func buildGoEcho(t *testing.T) backend.Artifact {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the backendtest sources")
	}
	src := filepath.Join(filepath.Dir(file), "testdata", "goecho")
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build aws-lambda-go function: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return zipArtifact(t, map[string]zipFile{"bootstrap": {mode: 0o755, body: string(bin)}})
}

// BuildGoEcho exposes the aws-lambda-go test function (provided.al2023,
// handler "bootstrap") for other tests: it echoes its event; see
// testdata/goecho for the fields that make it log, fail, exit or stream.
func BuildGoEcho(t *testing.T) backend.Artifact { return buildGoEcho(t) }

// ZipArtifact builds a zip artifact from files (name → content, mode 0644,
// or 0755 for names ending in "bootstrap").
func ZipArtifact(t *testing.T, files map[string]string) backend.Artifact {
	zf := make(map[string]zipFile, len(files))
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "bootstrap") {
			mode = 0o755
		}
		zf[name] = zipFile{mode: mode, body: body}
	}
	return zipArtifact(t, zf)
}
