package runtimes

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const pyApp = `
import logging

def echo(event, context):
    return event

def ctx(event, context):
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "cognito_identity_id": context.identity.cognito_identity_id,
        "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
        "client_app_title": context.client_context.client.app_title,
        "client_custom": context.client_context.custom,
    }

def boom(event, context):
    raise ValueError("bad value")

def unmarshalable(event, context):
    return {"s": {1, 2}}

def raw(event, context):
    return b"\x00raw"

def decimals(event, context):
    from decimal import Decimal
    return {"f": Decimal("1.5"), "i": Decimal("2")}

class Ошибка(Exception):
    pass

def unicode_error(event, context):
    raise Ошибка("плохо")

def logs(event, context):
    print("printed line")
    logging.getLogger().warning("warned %s", "here")
    return "ok"
`

func TestPythonBootstrapInvocations(t *testing.T) {
	runInvocations(t, FamilyPython, map[string]string{"app.py": pyApp}, []invocationCase{
		{
			name: "echo with unicode", handler: "app.echo", payload: `{"msg":"héllo ✓ 日本 🚀"}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if !strings.Contains(string(r.body), "héllo ✓ 日本 🚀") {
					t.Errorf("body %q: want the text as raw UTF-8", r.body)
				}
				if got := decodeJSON(t, r.body)["msg"]; got != "héllo ✓ 日本 🚀" {
					t.Errorf("msg = %q", got)
				}
			},
		},
		{
			name: "unicode escaped before python3.12", handler: "app.echo", payload: `{"msg":"é✓"}`,
			env:   []string{"AWS_EXECUTION_ENV=AWS_Lambda_python3.11"},
			check: wantBody(`{"msg": "\u00e9\u2713"}`),
		},
		{
			// Big enough that Go's server sends it chunked.
			name: "large payload", handler: "app.echo", payload: `{"big":"` + strings.Repeat("x", 300<<10) + `"}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if string(r.body) != `{"big": "`+strings.Repeat("x", 300<<10)+`"}` {
					t.Errorf("body of %d bytes is not the payload", len(r.body))
				}
			},
		},
		{
			name: "decimals", handler: "app.decimals", payload: `{}`,
			check: wantBody(`{"f": 1.5, "i": 2}`),
		},
		{
			name: "non-ASCII error type", handler: "app.unicode_error", payload: `{}`,
			check: func(t *testing.T, r result) {
				wantFunctionError(t, r, "Ошибка", "плохо")
			},
		},
		{
			name: "bytes returned raw", handler: "app.raw", payload: `{}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "response")
				if string(r.body) != "\x00raw" || r.header.Get("Content-Type") != "application/unknown" {
					t.Errorf("body = %q, content type %q", r.body, r.header.Get("Content-Type"))
				}
			},
		},
		{
			name: "context fields", handler: "app.ctx", payload: `{}`, headers: contextHeaders,
			check: func(t *testing.T, r result) {
				m := wantContext(t, r, map[string]any{
					"aws_request_id":           "req-1",
					"function_name":            "fn",
					"function_version":         "$LATEST",
					"invoked_function_arn":     "arn:aws:lambda:us-east-1:000000000000:function:fn",
					"memory_limit_in_mb":       "256",
					"log_group_name":           "/aws/lambda/fn",
					"log_stream_name":          "2026/11/27/[$LATEST]abc",
					"cognito_identity_id":      "cid",
					"cognito_identity_pool_id": "pool",
					"client_app_title":         "title",
				})
				if c, _ := m["client_custom"].(map[string]any); c["k"] != "v" {
					t.Errorf("client_custom = %v", m["client_custom"])
				}
			},
		},
		{
			name: "handler exception", handler: "app.boom", payload: `{}`,
			check: func(t *testing.T, r result) {
				e := wantFunctionError(t, r, "ValueError", "bad value")
				if e.RequestID != "req-1" {
					t.Errorf("requestId = %q, want req-1", e.RequestID)
				}
				if len(e.StackTrace) != 1 || !regexp.MustCompile(`^  File ".*/app\.py", line \d+, in boom\n    raise ValueError\("bad value"\)\n$`).MatchString(e.StackTrace[0]) {
					t.Errorf("stackTrace = %q, want only the user's frame", e.StackTrace)
				}
			},
		},
		{
			name: "marshal error", handler: "app.unmarshalable", payload: `{}`,
			check: func(t *testing.T, r result) {
				wantKind(t, r, "error")
				e := decodeJSON(t, r.body)
				if e["errorType"] != "Runtime.MarshalError" || e["errorMessage"] != "Unable to marshal response: Object of type set is not JSON serializable" {
					t.Errorf("error = %v", e)
				}
			},
		},
		{
			name: "nested handler with slashes", handler: "pkg/sub/mod.handler", payload: `{"x":1}`,
			files: map[string]string{"pkg/sub/mod.py": "def handler(e, c):\n    return {'nested': e['x']}\n"},
			check: wantBody(`{"nested": 1}`),
		},
		{
			name: "nested handler with dots", handler: "pkg.sub.mod.handler", payload: `{"x":2}`,
			files: map[string]string{"pkg/sub/mod.py": "def handler(e, c):\n    return {'nested': e['x']}\n"},
			check: wantBody(`{"nested": 2}`),
		},
	})
}

func TestPythonBootstrapInitErrors(t *testing.T) {
	files := map[string]string{
		"app.py":    pyApp,
		"broken.py": "def handler(e, c)\n    return 1\n",
		"raises.py": "raise KeyError('at import')\n",
	}
	runInitErrors(t, FamilyPython, files, "Syntax error in module 'broken': ", []initErrorCase{
		{"missing module", "missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing': No module named 'missing'"},
		{"missing handler", "app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"},
		{"malformed handler", "app", "Runtime.MalformedHandlerName", "Bad handler 'app': not enough values to unpack (expected 2, got 1)"},
		{"syntax error", "broken.handler", "Runtime.UserCodeSyntaxError", ""},
		{"built-in module", "sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"},
		{"exception at import", "raises.handler", "KeyError", "'at import'"},
	}, nil)
}

func TestPythonBootstrapLogsUncaughtError(t *testing.T) {
	api := newFakeAPI(t)
	p := startBootstrap(t, api, FamilyPython, "app.boom", map[string]string{"app.py": pyApp})
	wantKind(t, api.invoke(t, invocation{id: "req-1", payload: `{}`}), "error")
	out := p.waitOutput(t, "[ERROR] ValueError: bad value\r")
	if !regexp.MustCompile(`\[ERROR\] ValueError: bad value\rTraceback \(most recent call last\):\r\x{a0}\x{a0}File ".*app\.py", line \d+, in boom\r\x{a0}{4}raise ValueError\("bad value"\)\n`).MatchString(out) {
		t.Errorf("error log not in AWS's format:\n%q", out)
	}
}

func TestPythonBootstrapLogsAndKeepAlive(t *testing.T) {
	p := invokeThrice(t, FamilyPython, "app.logs", map[string]string{"app.py": pyApp}, func(p *proc, id string, r result) {
		if string(r.body) != `"ok"` {
			t.Fatalf("body = %s", r.body)
		}
		out := p.waitOutput(t, "\t"+id+"\twarned here\n")
		if !regexp.MustCompile(`\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + id + `\twarned here\n`).MatchString(out) {
			t.Errorf("log line not in AWS's format:\n%s", out)
		}
	})
	if got := strings.Count(p.stdout.String(), "printed line\n"); got != 3 {
		t.Errorf("print output seen %d times, want 3", got)
	}
}

func wantKind(t *testing.T, r result, kind string) {
	t.Helper()
	if r.kind != kind {
		t.Fatalf("runtime posted %s (%s), want %s", r.kind, r.body, kind)
	}
}

// TestPythonBootstrapLoggingSetup checks that the root logger is in AWS's
// format however the function gets at logging: at import, late, or never
// (then logging must not be loaded at all, for start-up time).
func TestPythonBootstrapLoggingSetup(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []string // regexps the output must match
		notWant string
	}{
		{
			name: "imported at init, basicConfig is a no-op as on AWS",
			src: `import logging
logging.getLogger().warning("at import")
logging.basicConfig(level=logging.INFO, format="%(message)s")
def handler(event, context):
    logging.info("info dropped")
    logging.getLogger("x").error("from handler")
    return "ok"
`,
			want: []string{
				`\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\tat import\n`,
				`\[ERROR\]\t\d{4}-\d\d-\d\dT[\d:.]+Z\treq-1\tfrom handler\n`,
			},
			notWant: "info dropped",
		},
		{
			name: "imported in the handler",
			src: `def handler(event, context):
    import logging.handlers
    logging.getLogger().warning("late %d", 7)
    return "ok"
`,
			want: []string{`\[WARNING\]\t[\dT:.-]+Z\treq-1\tlate 7\n`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			p := startBootstrap(t, api, FamilyPython, "fn.handler", map[string]string{"fn.py": tc.src})
			wantKind(t, api.invoke(t, invocation{id: "req-1", payload: `{}`}), "response")
			out := p.waitOutput(t, "req-1\t")
			for _, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("output does not match %q:\n%q", w, out)
				}
			}
			if tc.notWant != "" && strings.Contains(out, tc.notWant) {
				t.Errorf("output has %q:\n%q", tc.notWant, out)
			}
		})
	}
}

// TestPythonBootstrapStartupImports guards the start-up time: the bootstrap
// must not load heavy modules the interpreter itself did not (http.client
// alone costs ~20 ms).
func TestPythonBootstrapStartupImports(t *testing.T) {
	in := interpreter(t, FamilyPython)
	out, err := exec.Command(in.Python, "-c", "import sys, json; json.dump(sorted(sys.modules), sys.stdout)").Output()
	if err != nil {
		t.Fatal(err)
	}
	var bare []string
	if err := json.Unmarshal(out, &bare); err != nil {
		t.Fatal(err)
	}
	// JSON logs must not cost a function that never logs either.
	for _, env := range [][]string{nil, {"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=DEBUG"}} {
		api := newFakeAPI(t)
		startBootstrap(t, api, FamilyPython, "lean.modules", map[string]string{
			"lean.py": "import sys\ndef modules(event, context):\n    return sorted(sys.modules)\n"}, env...)
		r := api.invoke(t, invocation{id: "req-1", payload: `{}`})
		wantKind(t, r, "response")
		var loaded []string
		if err := json.Unmarshal(r.body, &loaded); err != nil {
			t.Fatal(err)
		}
		for _, m := range loaded {
			if slices.Contains(bare, m) {
				continue
			}
			top, _, _ := strings.Cut(m, ".")
			switch top {
			case "http", "email", "ssl", "socket", "logging", "decimal", "traceback", "tokenize", "urllib", "datetime":
				t.Errorf("bootstrap (env %q) loaded %s before the first invocation", env, m)
			}
		}
	}
}

// TestPythonBootstrapReconnects checks that the runtime gets over the Runtime
// API dropping its keep-alive connection between invocations.
func TestPythonBootstrapReconnects(t *testing.T) {
	api := newFakeAPI(t)
	startBootstrap(t, api, FamilyPython, "app.echo", map[string]string{"app.py": pyApp})
	for i, id := range []string{"req-a", "req-b", "req-c"} {
		r := api.invoke(t, invocation{id: id, payload: `{"n":` + string(rune('0'+i)) + `}`})
		wantKind(t, r, "response")
		if want := `{"n": ` + string(rune('0'+i)) + `}`; string(r.body) != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
		api.srv.CloseClientConnections()
	}
	if n := api.conns.Load(); n < 3 {
		t.Errorf("runtime opened %d connections, want a new one after each drop", n)
	}
}

// BenchmarkPythonColdStart measures python cold starts against a minimal
// Runtime API: exec to the first GET /next ("next-ms") and to the first
// response ("response-ms"), plus the process's CPU time ("cpu-ms"). The
// "floor" case is a bare interpreter doing the same two requests on a raw
// socket: what no bootstrap can beat. LAMB_PYTHON_BOOTSTRAP=file benchmarks
// another bootstrap (e.g. an older one from git) for comparison:
//
//	go test -run '^$' -bench PythonColdStart -benchtime 40x ./runtimes/
func BenchmarkPythonColdStart(b *testing.B) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not installed")
	}
	dir := b.TempDir()
	_, bs, _ := Bootstrap(FamilyPython)
	if f := os.Getenv("LAMB_PYTHON_BOOTSTRAP"); f != "" {
		if bs, err = os.ReadFile(f); err != nil {
			b.Fatal(err)
		}
	}
	const floor = `import os, _socket
h, p = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
s = _socket.socket()
s.connect((h, int(p)))
s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
d = s.recv(65536)
rid = d.split(b"Lambda-Runtime-Aws-Request-Id: ")[1].split(b"\r\n")[0]
s.sendall(b"POST /2018-06-01/runtime/invocation/" + rid + b"/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
s.recv(65536)
`
	files := map[string]string{"bootstrap.py": string(bs), "floor.py": floor, "app.py": "def handler(event, context):\n    return {'ok': event['k']}\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, script := range []string{"floor.py", "bootstrap.py"} {
		b.Run(strings.TrimSuffix(script, ".py"), func(b *testing.B) {
			var next, resp, cpu time.Duration
			for i := 0; i < b.N; i++ {
				n, r, c := coldStart(b, py, filepath.Join(dir, script), dir)
				next, resp, cpu = next+n, resp+r, cpu+c
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(next), "next-ms")
			b.ReportMetric(ms(resp), "response-ms")
			b.ReportMetric(ms(cpu), "cpu-ms")
		})
	}
}

// coldStart runs one python process through one invocation.
func coldStart(b *testing.B, py, script, taskRoot string) (next, resp, cpu time.Duration) {
	b.Helper()
	nextC, respC := make(chan time.Time, 4), make(chan time.Time, 4)
	var served atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		nextC <- time.Now()
		if served.Swap(true) {
			<-r.Context().Done() // the process is killed while parked here
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:fn")
		_, _ = io.WriteString(w, `{"k":"v"}`)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		respC <- time.Now()
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cmd := exec.Command(py, script)
	cmd.Dir = taskRoot
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(srv.URL, "http://"),
		"_HANDLER=app.handler", "LAMBDA_TASK_ROOT="+taskRoot, "PYTHONUNBUFFERED=1")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { // owned here: ends when the process exits (killed below)
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}()
	for _, step := range []struct {
		c   chan time.Time
		d   *time.Duration
		was string
	}{{nextC, &next, "first /next"}, {respC, &resp, "response"}} {
		select {
		case at := <-step.c:
			*step.d = at.Sub(start)
		case <-exited:
			b.Fatalf("python exited before its %s; output:\n%s", step.was, out.String())
		case <-time.After(waitFor):
			b.Fatalf("no %s; output:\n%s", step.was, out.String())
		}
	}
	return next, resp, 0 // cpu is set by the deferred kill
}
