package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/internal/testwait"
)

func testFunction() *Function {
	return &Function{
		AccountID: "000000000000", Region: "eu-west-1",
		Name: "echo", ARN: "arn:aws:lambda:eu-west-1:000000000000:function:echo", Version: "$LATEST",
		Runtime: "python3.12", Handler: "app.handler", MemoryMB: 128, Timeout: 3 * time.Second,
		CodeSHA256: "abc", Env: map[string]string{"GREETING": "hi"},
	}
}

func newEngine(t *testing.T, b Backend, opts ...Option) *Engine {
	t.Helper()
	e := New(b, opts...)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

var reportRE = regexp.MustCompile(`^REPORT RequestId: (\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t(Init Duration: 12\.34 ms\t)?$`)

func TestInvokeEchoWarmReuseAndLog(t *testing.T) {
	f := newFake()
	var sinkMu sync.Mutex
	var sunk []string
	e := newEngine(t, f, WithLogSink(func(fn *Function, line []byte) {
		sinkMu.Lock()
		sunk = append(sunk, fn.Name+": "+string(line))
		sinkMu.Unlock()
	}))
	fn := testFunction()
	for i, wantCold := range []bool{true, false, false} {
		id := fmt.Sprintf("req-%d", i)
		res, err := e.Invoke(context.Background(), fn, &Request{RequestID: id, Payload: []byte(`{"n":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Payload) != `{"n":1}` || res.FunctionError != "" || res.ExecutedVersion != "$LATEST" {
			t.Fatalf("call %d: got %+v", i, res)
		}
		lines := strings.Split(strings.TrimSuffix(string(res.Log), "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("call %d: log has %d lines: %q", i, len(lines), res.Log)
		}
		if lines[0] != "START RequestId: "+id+" Version: $LATEST" || lines[1] != "handling "+id || lines[2] != "END RequestId: "+id {
			t.Errorf("call %d: log %q", i, res.Log)
		}
		m := reportRE.FindStringSubmatch(lines[3])
		if m == nil || m[1] != id || (m[2] != "") != wantCold {
			t.Errorf("call %d: REPORT line %q (cold %v)", i, lines[3], wantCold)
		}
	}
	if n := f.numLaunches(); n != 1 {
		t.Errorf("launches = %d, want 1 (warm reuse)", n)
	}
	sinkMu.Lock()
	defer sinkMu.Unlock()
	if len(sunk) != 12 || sunk[0] != "echo: START RequestId: req-0 Version: $LATEST" || sunk[1] != "echo: handling req-0" {
		t.Errorf("sink got %q", sunk)
	}
}

func TestEnvComposition(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	fn.Env = map[string]string{"GREETING": "hi", "AWS_REGION": "mars-1", "_HANDLER": "evil"}
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "r"}); err != nil {
		t.Fatal(err)
	}
	env := f.lastSpec().Env
	want := map[string]string{
		"GREETING": "hi", "AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/echo",
		"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "_HANDLER": "app.handler", "AWS_REGION": "eu-west-1",
		"AWS_DEFAULT_REGION": "eu-west-1", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "TZ": ":UTC",
		"LANG": "en_US.UTF-8",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	stream := regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`)
	if !stream.MatchString(env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("log stream %q", env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if env[k] == "" {
			t.Errorf("%s missing", k)
		}
	}
	if !strings.HasPrefix(env["AWS_ACCESS_KEY_ID"], "ASIA") {
		t.Errorf("access key %q", env["AWS_ACCESS_KEY_ID"])
	}

	// provided runtimes get no AWS_EXECUTION_ENV.
	p := testFunction()
	p.ARN += "-provided"
	p.Runtime = "provided.al2023"
	if _, err := e.Invoke(context.Background(), p, &Request{RequestID: "r2"}); err != nil {
		t.Fatal(err)
	}
	if v, ok := f.lastSpec().Env["AWS_EXECUTION_ENV"]; ok {
		t.Errorf("provided runtime has AWS_EXECUTION_ENV=%q", v)
	}
}

func TestPoolKeyChangeDrainsOldInstances(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	entered := make(chan string, 4)
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		if string(inv.Payload) == "block" {
			entered <- in.ID()
			<-release
		}
		return echo(in, inv), nil
	}
	e := newEngine(t, f)
	fn := testFunction()

	// One instance of the old config busy, one idle.
	errc := make(chan error, 1)
	go func() {
		_, err := e.Invoke(context.Background(), fn, &Request{RequestID: "busy", Payload: []byte("block")})
		errc <- err
	}()
	busyID := <-entered
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "idle"}); err != nil {
		t.Fatal(err)
	}
	if f.numLive() != 2 {
		t.Fatalf("live = %d, want 2", f.numLive())
	}

	changes := []func(*Function){
		func(fn *Function) { fn.CodeSHA256 = "def" },
		func(fn *Function) { fn.Env = map[string]string{"GREETING": "ho"} },
		func(fn *Function) { fn.MemoryMB = 256 },
		func(fn *Function) { fn.Timeout = 5 * time.Second },
		func(fn *Function) { fn.Handler = "app.other" },
		func(fn *Function) { fn.Layers = []backend.Artifact{{SHA256: "l1"}} },
	}
	before := poolKey(fn)
	for i, change := range changes {
		c := *fn
		change(&c)
		if poolKey(&c) == before {
			t.Errorf("change %d kept the pool key", i)
		}
	}

	fn2 := *fn
	fn2.CodeSHA256 = "def"
	if _, err := e.Invoke(context.Background(), &fn2, &Request{RequestID: "new"}); err != nil {
		t.Fatal(err)
	}
	// The idle old instance stops; the busy one keeps running until its call ends.
	testwait.For(t, "idle old instance to stop", func() bool { return f.numLive() == 2 })
	f.mu.Lock()
	_, ok := f.live[busyID]
	f.mu.Unlock()
	if !ok {
		t.Fatal("busy instance was stopped mid-call")
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "drained instance to stop", func() bool { return f.numLive() == 1 })
	if got := e.Instances(); len(got) != 1 || got[0].State != "idle" {
		t.Fatalf("instances = %+v", got)
	}
}

func TestConcurrencyLimits(t *testing.T) {
	tests := []struct {
		name         string
		maxInstances int
		reserved     *int
		calls        int
		wantErr      error // for the call beyond the limit
	}{
		{name: "max instances: waits", maxInstances: 2, calls: 3},
		{name: "reserved concurrency: throttles", maxInstances: 10, reserved: ptr(2), calls: 3, wantErr: ErrThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			release := make(chan struct{})
			entered := make(chan struct{}, tt.calls)
			f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
				entered <- struct{}{}
				<-release
				return echo(in, inv), nil
			}
			e := newEngine(t, f, WithMaxInstances(tt.maxInstances))
			fn := testFunction()
			fn.ReservedConcurrency = tt.reserved
			errs := make(chan error, tt.calls)
			for i := range 2 {
				go func() {
					_, err := e.Invoke(context.Background(), fn, &Request{RequestID: fmt.Sprint(i)})
					errs <- err
				}()
			}
			<-entered
			<-entered
			var extra error
			extraDone := make(chan struct{})
			go func() {
				defer close(extraDone)
				_, extra = e.Invoke(context.Background(), fn, &Request{RequestID: "extra"})
			}()
			if tt.wantErr != nil {
				<-extraDone
				if !errors.Is(extra, tt.wantErr) {
					t.Fatalf("extra call: err = %v, want %v", extra, tt.wantErr)
				}
			} else {
				// The extra call must wait: nothing launches beyond the limit.
				testwait.For(t, "extra call to queue", func() bool {
					e.mu.Lock()
					defer e.mu.Unlock()
					return len(e.pools) == 1
				})
				select {
				case <-extraDone:
					t.Fatalf("extra call finished while instances were busy: %v", extra)
				case <-entered:
					t.Fatal("extra call ran beyond the limit")
				default:
				}
			}
			close(release)
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			<-extraDone
			if tt.wantErr == nil && extra != nil {
				t.Fatal(extra)
			}
			if n := f.numLaunches(); n != 2 {
				t.Errorf("launches = %d, want 2", n)
			}
		})
	}
}

func TestReservedConcurrencyZeroThrottles(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	fn.ReservedConcurrency = ptr(0)
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "r"}); !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if f.numLaunches() != 0 {
		t.Fatal("launched an instance for a throttled function")
	}
}

func TestWaitHonoursContext(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		entered <- struct{}{}
		<-release
		return echo(in, inv), nil
	}
	e := newEngine(t, f, WithMaxInstances(1))
	fn := testFunction()
	go func() { _, _ = e.Invoke(context.Background(), fn, &Request{RequestID: "a"}) }()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Invoke(ctx, fn, &Request{RequestID: "b"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRetryUndelivered(t *testing.T) {
	tests := []struct {
		name         string
		failures     int // instances that fail with ErrNotDelivered
		wantErr      bool
		wantLaunches int
	}{
		{name: "one dead instance", failures: 1, wantLaunches: 2},
		{name: "four retries succeed", failures: 4, wantLaunches: 5},
		{name: "five failures give up", failures: 5, wantErr: true, wantLaunches: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var mu sync.Mutex
			failed := 0
			f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
				mu.Lock()
				defer mu.Unlock()
				if failed < tt.failures {
					failed++
					return nil, fmt.Errorf("connection refused: %w", backend.ErrNotDelivered)
				}
				return echo(in, inv), nil
			}
			e := newEngine(t, f)
			res, err := e.Invoke(context.Background(), testFunction(), &Request{RequestID: "r", Payload: []byte("x")})
			if tt.wantErr {
				if !errors.Is(err, backend.ErrNotDelivered) {
					t.Fatalf("err = %v, want ErrNotDelivered", err)
				}
			} else if err != nil || string(res.Payload) != "x" {
				t.Fatalf("res %+v, err %v", res, err)
			}
			if n := f.numLaunches(); n != tt.wantLaunches {
				t.Errorf("launches = %d, want %d", n, tt.wantLaunches)
			}
			testwait.For(t, "failed instances to stop", func() bool { return f.numLive() <= 1 })
		})
	}
}

func TestDeadIdleInstanceIsReplaced(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "a"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range f.live {
		_ = in.Stop(context.Background()) // dies behind the engine's back
	}
	res, err := e.Invoke(context.Background(), fn, &Request{RequestID: "b", Payload: []byte("ok")})
	if err != nil || string(res.Payload) != "ok" {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if n := f.numLaunches(); n != 2 {
		t.Errorf("launches = %d, want 2", n)
	}
}

func TestFunctionFailures(t *testing.T) {
	tests := []struct {
		name        string
		launch      func(context.Context, *backend.Spec) error
		handle      func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error)
		timeout     time.Duration
		wantPayload string
		wantLog     []string
		wantInvokes int // Invoke calls in all (no retry after delivery)
	}{
		{
			name: "handler error",
			handle: func(_ context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
				return &backend.Response{ErrorType: "ValueError", Body: io.NopCloser(strings.NewReader(`{"errorMessage":"bad","errorType":"ValueError"}`)),
					Log: func() []byte { return []byte("traceback\n") }}, nil
			},
			wantPayload: `{"errorMessage":"bad","errorType":"ValueError"}`,
			wantLog:     []string{"traceback"},
			wantInvokes: 1,
		},
		{
			name: "init error",
			launch: func(context.Context, *backend.Spec) error {
				return &backend.InitError{FunctionError: backend.FunctionError{Type: "Runtime.ImportModuleError",
					Body: []byte(`{"errorMessage":"Unable to import module 'app': No module named 'app'","errorType":"Runtime.ImportModuleError"}`)},
					Log: []byte("init failed\n")}
			},
			wantPayload: `{"errorMessage":"Unable to import module 'app': No module named 'app'","errorType":"Runtime.ImportModuleError"}`,
			wantLog:     []string{"init failed"},
		},
		{
			name: "exit during call",
			handle: func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error) {
				return nil, &backend.ExitError{Code: 1, Log: []byte("boom\n")}
			},
			wantPayload: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req Error: Runtime exited with error: exit status 1"}`,
			wantLog:     []string{"boom", "RequestId: req Error: Runtime exited with error: exit status 1", "Runtime.ExitError"},
			wantInvokes: 1,
		},
		{
			// AWS words an exit with status 0 before answering apart from a
			// failing status ("Failure during the invoke phase",
			// lambda-runtime-environment.html).
			name: "exit 0 during call",
			handle: func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error) {
				return nil, &backend.ExitError{Code: 0}
			},
			wantPayload: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req Error: Runtime exited without providing a reason"}`,
			wantLog:     []string{"RequestId: req Error: Runtime exited without providing a reason", "Runtime.ExitError"},
			wantInvokes: 1,
		},
		{
			name: "killed by a signal during call",
			handle: func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error) {
				return nil, &backend.ExitError{Code: -1, Signal: "segmentation fault"}
			},
			wantPayload: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req Error: Runtime exited with error: signal: segmentation fault"}`,
			wantLog:     []string{"RequestId: req Error: Runtime exited with error: signal: segmentation fault", "Runtime.ExitError"},
			wantInvokes: 1,
		},
		{
			name: "exit while reading a stream",
			handle: func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error) {
				return &backend.Response{Streaming: true, Body: io.NopCloser(io.MultiReader(strings.NewReader("part"),
					errReader{&backend.ExitError{Code: 2}}))}, nil
			},
			wantPayload: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req Error: Runtime exited with error: exit status 2"}`,
			wantInvokes: 1,
		},
		{
			name: "out of memory",
			handle: func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error) {
				return nil, &backend.ExitError{Code: -1, Signal: "killed", OOM: true}
			},
			wantPayload: `{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: req Error: Runtime exited with error: signal: killed"}`,
			wantInvokes: 1,
		},
		{
			name:    "timeout",
			timeout: 50 * time.Millisecond,
			handle: func(ctx context.Context, in *fakeInstance, _ *backend.Invocation) (*backend.Response, error) {
				in.spec.Log([]byte("working"))
				<-ctx.Done()
				return nil, ctx.Err()
			},
			wantPayload: `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: req Error: Task timed out after 0.05 seconds"}`,
			wantLog:     []string{"working", "req Task timed out after 0.05 seconds"},
			wantInvokes: 1,
		},
		{
			name: "error trailer of a stream",
			handle: func(context.Context, *fakeInstance, *backend.Invocation) (*backend.Response, error) {
				return &backend.Response{Streaming: true, Body: io.NopCloser(strings.NewReader("partial")),
					Trailer: func() *backend.FunctionError {
						return &backend.FunctionError{Type: "Error", Body: []byte(`{"errorType":"Error","errorMessage":"mid"}`)}
					}}, nil
			},
			wantPayload: `{"errorType":"Error","errorMessage":"mid"}`,
			wantInvokes: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.launch = tt.launch
			var invokes int
			var mu sync.Mutex
			f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
				mu.Lock()
				invokes++
				mu.Unlock()
				return tt.handle(ctx, in, inv)
			}
			e := newEngine(t, f)
			fn := testFunction()
			if tt.timeout > 0 {
				fn.Timeout = tt.timeout
			}
			res, err := e.Invoke(context.Background(), fn, &Request{RequestID: "req"})
			if err != nil {
				t.Fatal(err)
			}
			if res.FunctionError != "Unhandled" || string(res.Payload) != tt.wantPayload {
				t.Errorf("got %q %s\nwant Unhandled %s", res.FunctionError, res.Payload, tt.wantPayload)
			}
			log := string(res.Log)
			if !strings.HasPrefix(log, "START RequestId: req Version: $LATEST\n") || !strings.Contains(log, "\nEND RequestId: req\nREPORT RequestId: req\t") {
				t.Errorf("log %q", log)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(log, want+"\n") {
					t.Errorf("log %q lacks %q", log, want)
				}
			}
			mu.Lock()
			if invokes != tt.wantInvokes {
				t.Errorf("invokes = %d, want %d", invokes, tt.wantInvokes)
			}
			mu.Unlock()

			// Failed instances are reset; the next call works.
			f.launch = nil
			f.handle = nil
			res, err = e.Invoke(context.Background(), fn, &Request{RequestID: "next", Payload: []byte("again")})
			if err != nil || res.FunctionError != "" || string(res.Payload) != "again" {
				t.Fatalf("next call: %+v %v", res, err)
			}
			testwait.For(t, "failed instance to stop", func() bool { return f.numLive() == 1 })
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestTimeoutPayloadFormat(t *testing.T) {
	var doc struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(errorDoc("Sandbox.Timedout", "id1", fmt.Sprintf("Task timed out after %.2f seconds", 3.0)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ErrorType != "Sandbox.Timedout" || doc.ErrorMessage != "RequestId: id1 Error: Task timed out after 3.00 seconds" {
		t.Fatalf("%+v", doc)
	}
}

func TestStreamChunksArriveBeforeEnd(t *testing.T) {
	f := newFake()
	pr, pw := io.Pipe()
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		return &backend.Response{Streaming: true, ContentType: "text/plain", Body: pr}, nil
	}
	e := newEngine(t, f)
	s, err := e.InvokeStream(context.Background(), testFunction(), &Request{RequestID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if s.ContentType != "text/plain" {
		t.Errorf("content type %q", s.ContentType)
	}
	go func() {
		_, _ = pw.Write([]byte("one"))
	}()
	buf := make([]byte, 16)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "one" {
		t.Fatalf("first chunk %q %v", buf[:n], err)
	}
	if s.Result() != nil {
		t.Fatal("result before the end")
	}
	if got := e.Instances(); len(got) != 1 || got[0].State != "busy" {
		t.Fatalf("instance not busy while streaming: %+v", got)
	}
	go func() {
		_, _ = pw.Write([]byte("two"))
		_ = pw.Close()
	}()
	rest, err := io.ReadAll(s)
	if err != nil || string(rest) != "two" {
		t.Fatalf("rest %q %v", rest, err)
	}
	if r := s.Result(); r == nil || r.FunctionError != "" {
		t.Fatalf("result %+v", r)
	}
	if got := e.Instances(); len(got) != 1 || got[0].State != "idle" {
		t.Fatalf("instance not idle after the stream: %+v", got)
	}
}

func TestStreamClosedEarlyResetsInstance(t *testing.T) {
	f := newFake()
	pr, pw := io.Pipe()
	defer pw.Close()
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		return &backend.Response{Streaming: true, Body: pr}, nil
	}
	e := newEngine(t, f)
	s, err := e.InvokeStream(context.Background(), testFunction(), &Request{RequestID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Result() == nil {
		t.Fatal("no result after Close")
	}
	testwait.For(t, "instance reset", func() bool { return f.numLive() == 0 && len(e.Instances()) == 0 })
}

func TestIdleCleanup(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	if _, err := e.Invoke(context.Background(), testFunction(), &Request{RequestID: "a"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.RunCleanup(ctx, 20*time.Millisecond) }()
	testwait.For(t, "idle instance to stop", func() bool { return f.numLive() == 0 && len(e.Instances()) == 0 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunCleanup returned %v", err)
	}
}

func TestEvictAndStop(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	v1 := *fn
	v1.Version = "1"
	other := testFunction()
	other.ARN, other.Name = other.ARN+"-other", "other"
	for _, x := range []*Function{fn, &v1, other} {
		if _, err := e.Invoke(context.Background(), x, &Request{RequestID: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.Instances()); got != 3 {
		t.Fatalf("instances = %d", got)
	}
	existed, err := e.Evict(context.Background(), fn)
	if err != nil || !existed {
		t.Fatalf("Evict = %v, %v", existed, err)
	}
	if got := e.Instances(); len(got) != 1 || got[0].FunctionName != "other" {
		t.Fatalf("instances after evict = %+v", got)
	}
	if f.numLive() != 1 {
		t.Fatalf("live = %d", f.numLive())
	}
	existed, err = e.Evict(context.Background(), fn)
	if err != nil || existed {
		t.Fatalf("second Evict = %v, %v", existed, err)
	}
	if err := e.Stop(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if f.numLive() != 0 {
		t.Fatalf("live = %d after Stop", f.numLive())
	}
}

func TestCloseStopsEverything(t *testing.T) {
	f := newFake()
	e := New(f)
	fn := testFunction()
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.Invoke(context.Background(), fn, &Request{RequestID: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.numLive() != 0 || !f.closed {
		t.Fatalf("live = %d, backend closed %v", f.numLive(), f.closed)
	}
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "late"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestPrepull(t *testing.T) {
	f := newFake()
	e := newEngine(t, f)
	fn := testFunction()
	var got []backend.Progress
	if err := e.Prepull(context.Background(), fn, func(p backend.Progress) { got = append(got, p) }); err != nil || len(got) != 0 {
		t.Fatalf("zip function: %v %v", got, err)
	}
	// A backend that runs images pulls a Zip function's runtime image.
	f.caps.Images = true
	if err := e.Prepull(context.Background(), fn, func(p backend.Progress) { got = append(got, p) }); err != nil || len(got) != 1 || got[0].Image != "public.ecr.aws/lambda/python:3.12" {
		t.Fatalf("zip function on an image backend: %v %v", got, err)
	}
	if _, err := e.Invoke(context.Background(), fn, &Request{RequestID: "r"}); err != nil || f.lastSpec().Image != "public.ecr.aws/lambda/python:3.12" {
		t.Fatalf("spec image %q (%v)", f.lastSpec().Image, err)
	}
	fn.PackageType, fn.Image = "Image", "example/img:1"
	if err := e.Prepull(context.Background(), fn, func(p backend.Progress) { got = append(got, p) }); err != nil || len(got) != 2 || got[1].Image != "example/img:1" {
		t.Fatalf("image function: %v %v", got, err)
	}
}

func TestReportLine(t *testing.T) {
	fn := testFunction()
	tests := []struct {
		dur, init time.Duration
		want      string
	}{
		{1230 * time.Microsecond, 0, "REPORT RequestId: x\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n"},
		{1230 * time.Microsecond, 12340 * time.Microsecond, "REPORT RequestId: x\tDuration: 1.23 ms\tBilled Duration: 14 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 12.34 ms\t\n"},
		{0, 0, "REPORT RequestId: x\tDuration: 0.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n"},
	}
	for _, tt := range tests {
		if got := reportLine(fn, "x", time.Now(), tt.dur, tt.init, 40, "success", ""); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestCallerGivesUpMidCall(t *testing.T) {
	f := newFake()
	entered := make(chan struct{})
	f.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		close(entered)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	e := newEngine(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := e.Invoke(ctx, testFunction(), &Request{RequestID: "r"})
		errc <- err
	}()
	<-entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The instance may still be running the call: it is reset, not reused.
	testwait.For(t, "instance reset", func() bool { return f.numLive() == 0 && len(e.Instances()) == 0 })
	if f.numLaunches() != 1 {
		t.Fatalf("launches = %d: the call was retried", f.numLaunches())
	}
}

// After Evict while a call runs, new calls get a fresh, lasting pool: they
// reuse a warm instance instead of starting cold every time.
func TestEvictDuringCallThenWarmReuse(t *testing.T) {
	fb := newFake()
	hold := make(chan struct{})
	fb.handle = func(ctx context.Context, in *fakeInstance, inv *backend.Invocation) (*backend.Response, error) {
		if inv.RequestID == "held" {
			<-hold
		}
		return echo(in, inv), nil
	}
	e := newEngine(t, fb)
	fn := testFunction()
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := e.Invoke(ctx, fn, &Request{RequestID: "held", Payload: []byte(`{}`)})
		done <- err
	}()
	testwait.For(t, "the held call to start", func() bool { return fb.numLaunches() == 1 })
	if _, err := e.Evict(ctx, fn); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := e.Invoke(ctx, fn, &Request{RequestID: fmt.Sprint("after-", i), Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := fb.numLaunches(); n != 2 {
		t.Fatalf("%d launches, want 2 (the held one, then one warm instance for the rest)", n)
	}
}
