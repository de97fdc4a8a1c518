package agenthost_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/agenthost"
	"github.com/lambhq/lamb/engine/backend"
)

// fakeAgent serves agentapi's routes: the event stream hands on what the test
// sends on events (its close ends the stream), invoke runs the test's handler.
type fakeAgent struct {
	events chan agentapi.Event
	invoke http.HandlerFunc
	tunnel http.HandlerFunc
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case agentapi.PathEvents:
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		enc := json.NewEncoder(w)
		for {
			select {
			case ev, ok := <-f.events:
				if !ok {
					return
				}
				_ = enc.Encode(ev)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	case agentapi.PathInvoke:
		f.invoke(w, r)
	case agentapi.PathTunnel:
		f.tunnel(w, r)
	default:
		http.NotFound(w, r)
	}
}

// rig is one Host driven the way a backend drives it, against a fakeAgent.
type rig struct {
	h      *agenthost.Host
	agent  *fakeAgent
	kills  chan struct{} // one value per Kill call
	mu     sync.Mutex
	lines  []string // what Config.Log received
	closed sync.Once
}

func newRig(t *testing.T, cfg agenthost.Config) *rig {
	t.Helper()
	r := &rig{agent: &fakeAgent{events: make(chan agentapi.Event, agentapi.MaxTunnels)}, kills: make(chan struct{}, 4)}
	srv := httptest.NewServer(r.agent)
	t.Cleanup(srv.Close)
	cfg.Log = func(line []byte) {
		r.mu.Lock()
		r.lines = append(r.lines, string(line))
		r.mu.Unlock()
	}
	cfg.Kill = func(context.Context) {
		r.kills <- struct{}{}
		r.endStream()
	}
	r.h = agenthost.New(cfg)
	go func() {
		ev := r.h.Follow(r.h.Life(), agentapi.NewClient(strings.TrimPrefix(srv.URL, "http://"), ""))
		r.h.RecordExit(r.h.MarkExited(ev))
		r.h.CloseDone()
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.h.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return r
}

func (r *rig) send(ev agentapi.Event) { r.agent.events <- ev }
func (r *rig) endStream()             { r.closed.Do(func() { close(r.agent.events) }) }

func (r *rig) saw(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if l == line {
			return true
		}
	}
	return false
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func answer(data string, end *agentapi.End) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(agentapi.HeaderAnswerType, "application/json")
		_ = agentapi.WriteFrame(w, agentapi.FrameData, []byte(data))
		_ = agentapi.WriteEnd(w, end)
	}
}

func TestHostInvokeWaitsForLog(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1"}) // LogWait 0: Log waits until ctx ends
	r.agent.invoke = answer(`"hi"`, &agentapi.End{Log: []byte("one\ntwo\n"), LogSeq: 2, ErrorType: "Oops", ErrorBody: []byte("{}")})
	r.send(agentapi.Event{Type: agentapi.EventLog, Line: []byte("one"), Seq: 1})
	r.send(agentapi.Event{Type: agentapi.EventReady})
	ctx := waitCtx(t)
	if err := r.h.WaitReady(ctx, time.Now()); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	resp, err := r.h.Invoke(ctx, &backend.Invocation{RequestID: "r1", Payload: []byte("{}")})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != `"hi"` || resp.ContentType != "application/json" {
		t.Fatalf("body %q %v, content type %q", body, err, resp.ContentType)
	}
	if fe := resp.Trailer(); fe == nil || fe.Type != "Oops" || string(fe.Body) != "{}" {
		t.Fatalf("trailer %+v", fe)
	}
	// Line 2 has not reached Config.Log yet: Log must wait for it.
	type logged struct {
		log    []byte
		sawTwo bool
	}
	got := make(chan logged, 1)
	go func() { l := resp.Log(); got <- logged{l, r.saw("two")} }()
	r.send(agentapi.Event{Type: agentapi.EventLog, Line: []byte("two"), Seq: 2})
	select {
	case g := <-got:
		if string(g.log) != "one\ntwo\n" || !g.sawTwo {
			t.Fatalf("Log = %q, Config.Log saw line 2 first: %v", g.log, g.sawTwo)
		}
	case <-ctx.Done():
		t.Fatal("Log did not return")
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHostLogWaitBounded(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1", LogWait: 20 * time.Millisecond})
	r.agent.invoke = answer("x", &agentapi.End{Log: []byte("never\n"), LogSeq: 9})
	r.send(agentapi.Event{Type: agentapi.EventReady})
	ctx := waitCtx(t)
	if err := r.h.WaitReady(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := r.h.Invoke(ctx, &backend.Invocation{RequestID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if got := resp.Log(); string(got) != "never\n" { // returns although line 9 never comes
		t.Fatalf("Log = %q", got)
	}
}

func TestHostInitError(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1"})
	r.send(agentapi.Event{Type: agentapi.EventLog, Line: []byte("Traceback"), Seq: 1})
	r.send(agentapi.Event{Type: agentapi.EventInitError, ErrorType: "Runtime.ImportModuleError", ErrorBody: []byte(`{"errorMessage":"x"}`)})
	err := r.h.WaitReady(waitCtx(t), time.Now())
	var ie *backend.InitError
	if !errors.As(err, &ie) || ie.Type != "Runtime.ImportModuleError" || !strings.Contains(string(ie.Log), "Traceback") {
		t.Fatalf("WaitReady = %v (%+v)", err, ie)
	}
	select {
	case <-r.kills:
	default:
		t.Fatal("the sandbox was not killed")
	}
	<-r.h.Done()
}

func TestHostEndedBeforeReady(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1"})
	r.send(agentapi.Event{Type: agentapi.EventExit, Code: 2, Tail: []byte("bye\n")})
	if err := r.h.WaitReady(waitCtx(t), time.Now()); !errors.Is(err, agenthost.ErrEnded) {
		t.Fatalf("WaitReady = %v, want ErrEnded", err)
	}
	if xe := r.h.ExitErr(); xe == nil || xe.Code != 2 || string(xe.Log) != "bye\n" {
		t.Fatalf("ExitErr = %+v", xe)
	}
	if _, err := r.h.Invoke(waitCtx(t), &backend.Invocation{RequestID: "r"}); !errors.Is(err, backend.ErrNotDelivered) {
		t.Fatalf("Invoke after exit = %v, want ErrNotDelivered", err)
	}
}

func TestHostRuntimeExitsDuringInvoke(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1"})
	r.agent.invoke = func(w http.ResponseWriter, _ *http.Request) {
		r.send(agentapi.Event{Type: agentapi.EventExit, Code: -1, Signal: "killed", OOM: true})
		w.Header().Set(agentapi.HeaderRuntimeExited, "1")
		http.Error(w, "runtime exited", http.StatusBadGateway)
	}
	r.send(agentapi.Event{Type: agentapi.EventReady})
	ctx := waitCtx(t)
	if err := r.h.WaitReady(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := r.h.Invoke(ctx, &backend.Invocation{RequestID: "r1"})
	var xe *backend.ExitError
	if !errors.As(err, &xe) || !xe.OOM || xe.Signal != "killed" {
		t.Fatalf("Invoke = %v, want the OOM exit", err)
	}
}

func TestHostStop(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1"})
	r.send(agentapi.Event{Type: agentapi.EventReady})
	ctx := waitCtx(t)
	if err := r.h.WaitReady(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := r.h.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.kills) != 1 {
		t.Fatalf("Kill called %d times, want once", len(r.kills))
	}
	if r.h.Life().Err() == nil || !r.h.Stopping() {
		t.Fatal("Life lives on after Stop")
	}
	if _, err := r.h.Invoke(ctx, &backend.Invocation{RequestID: "r"}); !errors.Is(err, backend.ErrNotDelivered) {
		t.Fatalf("Invoke after Stop = %v", err)
	}
}

func TestHostWaitReadyCancelled(t *testing.T) {
	r := newRig(t, agenthost.Config{ID: "i1"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.h.WaitReady(ctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitReady = %v", err)
	}
	if len(r.kills) != 1 {
		t.Fatal("the sandbox was not stopped")
	}
}

// TestHostTunnels: a tunnel event makes the Host open a tunnel and hand it
// to Config.API; the sandbox's end closes the tunnels it holds, though the
// agent's side never hangs up (a container killed from outside).
func TestHostTunnels(t *testing.T) {
	api := agentapi.NewListener(nil)
	entered := make(chan struct{}, 1)
	apiGone := make(chan struct{})
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/hold" {
			_, _ = io.WriteString(w, "lamb")
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		entered <- struct{}{}
		<-req.Context().Done()
		close(apiGone)
	})}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(api) }()
	t.Cleanup(func() { _ = srv.Close(); <-served })

	r := newRig(t, agenthost.Config{ID: "i1", API: api})
	epLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := agentapi.NewEndpoint(epLn, func(id uint64) { r.send(agentapi.Event{Type: agentapi.EventTunnel, Tunnel: id}) }, nil)
	epDone := make(chan struct{})
	go func() { defer close(epDone); _ = ep.Serve() }()
	t.Cleanup(func() { _ = ep.Close(); <-epDone })
	r.agent.tunnel = ep.ServeTunnel
	r.send(agentapi.Event{Type: agentapi.EventReady})
	if err := r.h.WaitReady(waitCtx(t), time.Now()); err != nil {
		t.Fatal(err)
	}

	fn := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", epLn.Addr().String())
		}}}
	resp, err := fn.Get("http://" + agentapi.EndpointAddr + "/2015-03-31/functions/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "lamb" {
		t.Fatalf("through the tunnel: %q", body)
	}

	held := make(chan error, 1)
	go func() {
		resp, err := fn.Get("http://" + agentapi.EndpointAddr + "/hold")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		held <- err
	}()
	<-entered
	r.endStream() // the sandbox is gone: Follow returns, MarkExited runs
	select {
	case <-apiGone:
	case <-time.After(5 * time.Second):
		t.Fatal("the tunnel outlived its sandbox")
	}
	<-r.h.Done()
	if err := <-held; err == nil {
		t.Fatal("the held call succeeded")
	}
}
