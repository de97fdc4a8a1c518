package runtimes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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
func writeFiles(t *testing.T, dir string, files map[string]string) {
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

// startBootstrap writes the family's embedded bootstrap and the function's
// files to temp dirs and runs the bootstrap against api.
func startBootstrap(t *testing.T, api *fakeAPI, family, handler string, files map[string]string, env ...string) *proc {
	t.Helper()
	in := interpreter(t, family)
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
