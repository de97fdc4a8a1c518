package runtimes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"
)

// This file holds a small fake Lambda Runtime API and a helper that runs one
// of our bootstraps against it as a real child process.

const waitFor = 15 * time.Second

type invocation struct {
	id      string
	payload string
	headers map[string]string
}

// result is one thing the runtime posted: a response, an invocation error or
// an init error.
type result struct {
	kind    string // "response", "error", "init"
	id      string
	gated   bool // whether a GET /gate had been answered when this was posted
	header  http.Header
	trailer http.Header
	body    []byte
}

type fakeAPI struct {
	srv     *httptest.Server
	next    chan invocation
	results chan result
	chunks  chan []byte   // each read of a streamed response body, as it arrives
	gate    chan struct{} // GET /gate blocks until the test closes or sends on it
	conns   atomic.Int32  // connections opened by the runtime
	gated   atomic.Bool   // a GET /gate has been answered
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		next:    make(chan invocation, 8),
		results: make(chan result, 8),
		chunks:  make(chan []byte, 64),
		gate:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", f.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", f.handlePost("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", f.handlePost("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", f.handlePost("init"))
	mux.HandleFunc("GET /gate", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-f.gate:
			f.gated.Store(true)
		case <-r.Context().Done():
		}
	})
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeAPI) handleNext(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-f.next:
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:fn")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
		for k, v := range inv.headers {
			w.Header().Set(k, v)
		}
		_, _ = io.WriteString(w, inv.payload)
	case <-r.Context().Done():
	}
}

func (f *fakeAPI) handlePost(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		buf := make([]byte, 64<<10)
		streaming := r.Header.Get("Lambda-Runtime-Function-Response-Mode") == "streaming"
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				body.Write(buf[:n])
				if streaming {
					f.chunks <- bytes.Clone(buf[:n])
				}
			}
			if err != nil {
				break
			}
		}
		f.results <- result{kind: kind, id: r.PathValue("id"), gated: f.gated.Load(), header: r.Header.Clone(), trailer: r.Trailer.Clone(), body: body.Bytes()}
		w.WriteHeader(http.StatusAccepted)
	}
}

// recv waits for one value from ch, failing the test after waitFor.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// syncBuffer is an io.Writer safe for the exec copy goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{}
	err    error
}

// waitOutput polls the process output until it contains want or the deadline passes.
func (p *proc) waitOutput(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		out := p.stdout.String()
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("stdout never contained %q; stdout:\n%s\nstderr:\n%s", want, out, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond) // polling output with a deadline, not waiting blind
	}
}

func (p *proc) waitExit(t *testing.T) int {
	t.Helper()
	recv(t, p.exited, "bootstrap exit")
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("bootstrap: %v", p.err)
	}
	return 0
}

// interpreter finds the interpreter for a family, skipping the test if the
// host lacks it.
func interpreter(t *testing.T, family string) Interpreters {
	t.Helper()
	name := map[string]string{FamilyPython: "python3", FamilyNodejs: "node"}[family]
	p := testenv.LookPath(t, name)
	if family == FamilyPython {
		return Interpreters{Python: p}
	}
	return Interpreters{Node: p}
}

// writeFiles writes name → content under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BootstrapCommand writes the family's embedded bootstrap and the function's
// files to temp dirs and returns the command that runs the bootstrap with in
// and the task root (exported for the runtimes_test package too).
func BootstrapCommand(t testing.TB, family string, in Interpreters, files map[string]string) (argv []string, taskRoot string) {
	t.Helper()
	name, content, ok := Bootstrap(family)
	if !ok {
		t.Fatalf("no bootstrap for %s", family)
	}
	rtDir, taskRoot := t.TempDir(), t.TempDir()
	bsPath := filepath.Join(rtDir, name)
	if err := os.WriteFile(bsPath, content, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, taskRoot, files)
	argv, err := Command(family, in, bsPath, taskRoot)
	if err != nil {
		t.Fatal(err)
	}
	return argv, taskRoot
}

// startBootstrap writes the family's embedded bootstrap and the function's
// files to temp dirs and runs the bootstrap against api.
func startBootstrap(t *testing.T, api *fakeAPI, family, handler string, files map[string]string, env ...string) *proc {
	t.Helper()
	argv, taskRoot := BootstrapCommand(t, family, interpreter(t, family), files)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = taskRoot
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+api.addr(),
		"_HANDLER="+handler,
		"LAMBDA_TASK_ROOT="+taskRoot,
		"AWS_LAMBDA_FUNCTION_NAME=fn",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn",
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/11/27/[$LATEST]abc",
	)
	cmd.Env = append(cmd.Env, env...)
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { // owned by this helper; ends when the process exits (cancel kills it)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
		if t.Failed() {
			t.Logf("bootstrap stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

// invoke queues one invocation and waits for what the runtime posts back.
func (f *fakeAPI) invoke(t *testing.T, inv invocation) result {
	t.Helper()
	f.next <- inv
	r := recv(t, f.results, "result of "+inv.id)
	if r.kind != "init" && r.id != inv.id {
		t.Fatalf("posted for request %q, want %q", r.id, inv.id)
	}
	return r
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %q", err, b)
	}
	return m
}

// invocationCase is one invocation of a bootstrap: the handler, files added
// to the family's app, the payload and headers sent, the environment the
// bootstrap runs with and the check of what it posts back.
type invocationCase struct {
	name    string
	handler string
	files   map[string]string
	payload string
	headers map[string]string
	env     []string
	check   func(t *testing.T, r result)
}

// runInvocations runs each case as a subtest: a fresh bootstrap of family
// with app (name → content) and the case's files, invoked once as req-1.
func runInvocations(t *testing.T, family string, app map[string]string, tests []invocationCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			files := maps.Clone(app)
			maps.Copy(files, tc.files)
			startBootstrap(t, api, family, tc.handler, files, tc.env...)
			tc.check(t, api.invoke(t, invocation{id: "req-1", payload: tc.payload, headers: tc.headers}))
		})
	}
}

// contextHeaders are the identity and client context a "context fields"
// invocation sends.
var contextHeaders = map[string]string{
	"Lambda-Runtime-Cognito-Identity": `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`,
	"Lambda-Runtime-Client-Context":   `{"client":{"app_title":"title"},"custom":{"k":"v"},"env":{}}`,
}

// wantContext wants r to be a handler's answer of its context fields (a JSON
// object), with each of want's members and "remaining" about the 30 s
// deadline the fake API gives; it returns the object for further checks.
func wantContext(t *testing.T, r result, want map[string]any) map[string]any {
	t.Helper()
	wantKind(t, r, "response")
	m := decodeJSON(t, r.body)
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if rem, _ := m["remaining"].(float64); rem <= 20000 || rem > 30000 {
		t.Errorf("remaining = %v, want about 30000", m["remaining"])
	}
	return m
}

// invocationError is the body of an invocation error a runtime posts.
type invocationError struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	RequestID    string   `json:"requestId"`
	Trace        []string `json:"trace"`      // Node.js
	StackTrace   []string `json:"stackTrace"` // Python
}

// wantFunctionError wants r to be an invocation error of errorType (in its
// header and body) with message, and returns the body.
func wantFunctionError(t *testing.T, r result, errorType, message string) invocationError {
	t.Helper()
	wantKind(t, r, "error")
	if got := r.header.Get("Lambda-Runtime-Function-Error-Type"); got != errorType {
		t.Errorf("error type header = %q", got)
	}
	var e invocationError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatal(err)
	}
	if e.ErrorType != errorType || e.ErrorMessage != message {
		t.Errorf("error = %+v", e)
	}
	return e
}

// initErrorCase is a handler a bootstrap cannot load and the init error it
// must post (wantMessage "" for a syntax error, whose message varies).
type initErrorCase struct {
	name, handler, wantType, wantMessage string
}

// runInitErrors runs each case as a subtest: a bootstrap of family with files
// must post the case's init error (a syntax error's message starting with
// syntaxPrefix) and exit 1. check, when not nil, looks further at the error
// body e.
func runInitErrors(t *testing.T, family string, files map[string]string, syntaxPrefix string, tests []initErrorCase, check func(t *testing.T, tc initErrorCase, e map[string]any)) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			p := startBootstrap(t, api, family, tc.handler, files)
			r := recv(t, api.results, "init error")
			wantKind(t, r, "init")
			if got := r.header.Get("Lambda-Runtime-Function-Error-Type"); got != tc.wantType {
				t.Errorf("error type header = %q, want %q", got, tc.wantType)
			}
			e := decodeJSON(t, r.body)
			if e["errorType"] != tc.wantType {
				t.Errorf("errorType = %v, want %s", e["errorType"], tc.wantType)
			}
			msg, _ := e["errorMessage"].(string)
			if tc.wantMessage != "" && msg != tc.wantMessage {
				t.Errorf("errorMessage = %q, want %q", msg, tc.wantMessage)
			}
			if tc.wantMessage == "" && !strings.HasPrefix(msg, syntaxPrefix) {
				t.Errorf("errorMessage = %q", msg)
			}
			if check != nil {
				check(t, tc, e)
			}
			if code := p.waitExit(t); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
		})
	}
}

// invokeThrice invokes one bootstrap of family three times (req-a, req-b,
// req-c), passing each result to check, and wants the runtime to have kept
// one connection for all three.
func invokeThrice(t *testing.T, family, handler string, files map[string]string, check func(p *proc, id string, r result)) *proc {
	t.Helper()
	api := newFakeAPI(t)
	p := startBootstrap(t, api, family, handler, files)
	for _, id := range []string{"req-a", "req-b", "req-c"} {
		r := api.invoke(t, invocation{id: id, payload: `{}`})
		wantKind(t, r, "response")
		check(p, id, r)
	}
	if n := api.conns.Load(); n != 1 {
		t.Errorf("runtime opened %d connections for 3 invocations, want 1 (keep-alive)", n)
	}
	return p
}
