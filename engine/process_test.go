package engine_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"
	"github.com/lambhq/lamb/internal/testwait"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/backendtest"
	"github.com/lambhq/lamb/engine/backend/process"
)

// These tests run the engine for real: the process backend, lamb's python
// bootstrap on the host's python3, aws-lambda-go, and the real runtimeapi.

const pyApp = `import os, sys, time
def handler(event, context):
    if "print" in event:
        print(event["print"])
    if "sleep" in event:
        time.sleep(event["sleep"])
    if "exit" in event:
        sys.stdout.flush()
        os._exit(event["exit"])
    if "raise" in event:
        raise RuntimeError(event["raise"])
    return event
`

func needPython(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "python3")
}

func newProcessEngine(t *testing.T, opts ...engine.Option) *engine.Engine {
	t.Helper()
	b, err := process.New(process.Config{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(b, opts...)
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

func pyFunction(t *testing.T) *engine.Function {
	code := backendtest.ZipArtifact(t, map[string]string{"app.py": pyApp})
	return &engine.Function{
		AccountID: "000000000000", Region: "us-east-1", Name: "py", Version: "$LATEST",
		ARN:     "arn:aws:lambda:us-east-1:000000000000:function:py",
		Runtime: "python3.12", Handler: "app.handler", MemoryMB: 128, Timeout: 3 * time.Second,
		Code: code, CodeSHA256: code.SHA256,
	}
}

func TestProcessEngineInvoke(t *testing.T) {
	needPython(t)
	e := newProcessEngine(t)
	fn := pyFunction(t)
	ctx := context.Background()
	report := regexp.MustCompile(`REPORT RequestId: (\S+)\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: [1-9]\d* MB\t(Init Duration: [\d.]+ ms\t)?\n$`)
	for i, cold := range []bool{true, false} {
		id := fmt.Sprintf("6f7c-%d", i)
		res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: id, Payload: []byte(`{"print":"hello from ` + id + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.FunctionError != "" || string(res.Payload) != `{"print": "hello from `+id+`"}` {
			t.Fatalf("result %q %s", res.FunctionError, res.Payload)
		}
		log := string(res.Log)
		if !strings.HasPrefix(log, "START RequestId: "+id+" Version: $LATEST\n") || !strings.Contains(log, "\nhello from "+id+"\nEND RequestId: "+id+"\n") {
			t.Errorf("log %q", log)
		}
		m := report.FindStringSubmatch(log)
		if m == nil || m[1] != id || (m[2] != "") != cold {
			t.Errorf("REPORT (cold %v) in %q", cold, log)
		}
	}
	if n := len(e.Instances()); n != 1 {
		t.Fatalf("instances = %d, want 1", n)
	}
}

func TestProcessEngineFailures(t *testing.T) {
	needPython(t)
	tests := []struct {
		name        string
		timeout     time.Duration
		handler     string
		payload     string
		wantPayload string // regexp
		wantLog     string // regexp
	}{
		{
			name: "timeout", timeout: 500 * time.Millisecond, payload: `{"print":"about to sleep","sleep":30}`,
			wantPayload: `^\{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: req-1 Error: Task timed out after 0.50 seconds"\}$`,
			wantLog:     `about to sleep\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z req-1 Task timed out after 0.50 seconds\nEND RequestId: req-1\n`,
		},
		{
			name: "exit mid-call", payload: `{"print":"bye","exit":1}`,
			wantPayload: `^\{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req-1 Error: Runtime exited with error: exit status 1"\}$`,
			wantLog:     `bye\n(.|\n)*RequestId: req-1 Error: Runtime exited with error: exit status 1\nRuntime.ExitError\nEND`,
		},
		{
			name: "handler error", payload: `{"raise":"nope"}`,
			wantPayload: `"errorMessage": ?"nope".*"errorType": ?"RuntimeError"`,
			wantLog:     `RuntimeError`,
		},
		{
			name: "init error", handler: "missing.handler", payload: `{}`,
			wantPayload: `"errorType": ?"Runtime.ImportModuleError"`,
			wantLog:     `START RequestId: req-1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newProcessEngine(t)
			fn := pyFunction(t)
			if tt.timeout > 0 {
				fn.Timeout = tt.timeout
			}
			if tt.handler != "" {
				fn.Handler = tt.handler
			}
			res, err := e.Invoke(context.Background(), fn, &engine.Request{RequestID: "req-1", Payload: []byte(tt.payload)})
			if err != nil {
				t.Fatal(err)
			}
			if res.FunctionError != "Unhandled" || !regexp.MustCompile(tt.wantPayload).Match(res.Payload) {
				t.Errorf("result %q %s", res.FunctionError, res.Payload)
			}
			if !regexp.MustCompile(tt.wantLog).Match(res.Log) {
				t.Errorf("log %q lacks %s", res.Log, tt.wantLog)
			}
			if tt.handler != "" {
				return
			}
			// The next call works.
			res, err = e.Invoke(context.Background(), fn, &engine.Request{RequestID: "req-2", Payload: []byte(`{"ok":true}`)})
			if err != nil || res.FunctionError != "" || string(res.Payload) != `{"ok": true}` {
				t.Fatalf("next call: %+v %v", res, err)
			}
		})
	}
}

func TestProcessEngineConcurrencyAndStream(t *testing.T) {
	needPython(t)
	e := newProcessEngine(t, engine.WithMaxInstances(2))
	fn := pyFunction(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.Invoke(context.Background(), fn, &engine.Request{RequestID: fmt.Sprint("c", i), Payload: []byte(`{"sleep":0.2}`)})
			if err == nil && res.FunctionError != "" {
				err = fmt.Errorf("function error %s", res.Payload)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.Instances()); n != 2 {
		t.Fatalf("instances = %d, want 2 (the limit)", n)
	}

	// Streaming with aws-lambda-go: the first chunk arrives before the function ends.
	code := backendtest.BuildGoEcho(t)
	gofn := &engine.Function{Name: "go", ARN: "arn:aws:lambda:us-east-1:000000000000:function:go", Runtime: "provided.al2023",
		Handler: "bootstrap", Code: code, CodeSHA256: code.SHA256, Timeout: 30 * time.Second}
	fifo := t.TempDir() + "/fifo"
	if err := mkfifo(fifo); err != nil {
		t.Skip(err)
	}
	s, err := e.InvokeStream(context.Background(), gofn, &engine.Request{RequestID: "st", Payload: []byte(`{"fifo":"` + fifo + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := make([]byte, 5)
	if _, err := io.ReadFull(s, first); err != nil || string(first) != "first" {
		t.Fatalf("first %q %v", first, err)
	}
	if err := os.WriteFile(fifo, []byte("go"), 0o600); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(s)
	if err != nil || string(rest) != "second:go" {
		t.Fatalf("rest %q %v", rest, err)
	}
	if r := s.Result(); r == nil || r.FunctionError != "" || !strings.Contains(string(r.Log), "END RequestId: st") {
		t.Fatalf("result %+v", r)
	}
}

// TestProcessEngineNoLeaks runs many invocations, closes the engine, and
// checks that goroutines, file descriptors and child processes are back to
// where they were.
func TestProcessEngineNoLeaks(t *testing.T) {
	needPython(t)
	baseG := runtime.NumGoroutine()
	baseFD := countFDs(t)

	b, err := process.New(process.Config{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(b, engine.WithMaxInstances(3))
	fn := pyFunction(t)
	fn.Timeout = time.Second
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := `{"print":"x"}`
			switch i % 10 {
			case 3:
				payload = `{"exit":2}`
			case 7:
				payload = `{"raise":"e"}`
			}
			if _, err := e.Invoke(context.Background(), fn, &engine.Request{RequestID: fmt.Sprint("l", i), Payload: []byte(payload)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(childPIDs(t)) == 0 {
		t.Fatal("no runtime processes while instances are warm: the check below could not fail")
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitNoLeaks(t, baseG, baseFD)
}

// waitNoLeaks waits until goroutines and file descriptors are back to the
// counts taken before the test and no child process is left, failing with
// every goroutine's stack if that does not happen within ten seconds.
func waitNoLeaks(t *testing.T, baseG, baseFD int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, fds, kids := runtime.NumGoroutine(), countFDs(t), childPIDs(t)
		if g <= baseG && fds <= baseFD && len(kids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d (was %d), fds %d (was %d), children %v\n%s", g, baseG, fds, baseFD, kids, buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return len(ents)
}

// childPIDs lists live processes whose parent is this test process.
func childPIDs(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	me := os.Getpid()
	var kids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == strconv.Itoa(me) {
			kids = append(kids, pid)
		}
	}
	return kids
}

func TestProcessEngineLifecycle(t *testing.T) {
	needPython(t)
	e := newProcessEngine(t)
	fn := pyFunction(t)
	ctx := context.Background()
	invoke := func(fn *engine.Function, id string) {
		t.Helper()
		res, err := e.Invoke(ctx, fn, &engine.Request{RequestID: id, Payload: []byte(`{}`)})
		if err != nil || res.FunctionError != "" {
			t.Fatalf("invoke %s: %+v %v", id, res, err)
		}
	}
	invoke(fn, "a")
	first := e.Instances()
	if len(first) != 1 {
		t.Fatalf("instances %+v", first)
	}

	// A configuration change gets a new instance; the old one stops.
	changed := *fn
	changed.Env = map[string]string{"NEW": "1"}
	invoke(&changed, "b")
	waitForInstances(t, e, func(in []engine.InstanceInfo) bool { return len(in) == 1 && in[0].ID != first[0].ID })
	testwait.For(t, "the old runtime process to exit", func() bool { return len(childPIDs(t)) == 1 })

	// Idle instances stop after the TTL.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.RunCleanup(cctx, 50*time.Millisecond) }()
	waitForInstances(t, e, func(in []engine.InstanceInfo) bool { return len(in) == 0 })
	cancel()
	<-done
	testwait.For(t, "runtime processes to exit", func() bool { return len(childPIDs(t)) == 0 })

	// Evict reports whether instances existed.
	invoke(&changed, "c")
	if ok, err := e.Evict(ctx, fn); err != nil || !ok {
		t.Fatalf("Evict = %v %v", ok, err)
	}
	if ok, err := e.Evict(ctx, fn); err != nil || ok {
		t.Fatalf("second Evict = %v %v", ok, err)
	}
	if n := len(childPIDs(t)); n != 0 {
		t.Fatalf("runtime processes after Evict = %d", n)
	}
}

func waitForInstances(t *testing.T, e *engine.Engine, cond func([]engine.InstanceInfo) bool) {
	t.Helper()
	testwait.For(t, "instances", func() bool { return cond(e.Instances()) })
}
