// Package agent is lamb's in-sandbox supervisor, the entrypoint of every
// container lamb starts (the static lamb binary's hidden `agent` mode).
//
// It starts the function's runtime (the image's bootstrap) with
// AWS_LAMBDA_RUNTIME_API pointing at a Runtime API server inside the agent,
// captures the runtime's output, and serves the host one HTTP endpoint
// (package agentapi): an event stream (ready, init error, log lines, tunnel
// requests, exit), invoke (answers stream back as the runtime writes them),
// tunnels and shutdown. With Config.Endpoint it also serves lamb's API to the
// function on the sandbox's loopback, through tunnels the host opens.
//
// It needs nothing from the image but a Linux kernel: it is stdlib-only and
// static. It exits when the runtime exits (with the runtime's status), on
// shutdown, on SIGTERM/SIGINT, or when no host has held its event stream for
// its lease (Config.Lease), the host being gone.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/runtimeapi"
	"github.com/lambhq/lamb/runtimeoutput"
)

// Config configures one agent run.
type Config struct {
	// Listen is the host API's address (default ":9009", agentapi.DefaultPort).
	Listen string
	// Listener, if set, serves the host API instead of listening on Listen
	// (tests). Run closes it.
	Listener net.Listener
	// Endpoint, when set, is where the agent serves lamb's API to the
	// function (agentapi.EndpointAddr, its AWS_ENDPOINT_URL), carrying each
	// connection to the host through a tunnel. A failure to listen there is
	// logged, not fatal: the function runs without it.
	Endpoint string
	// EndpointListener, if set, is used instead of listening on Endpoint
	// (tests). Run closes it.
	EndpointListener net.Listener
	// Command is the runtime's argv. When empty, the first executable file of
	// Try runs; when none is, the agent reports Runtime.InvalidEntrypoint.
	Command []string
	Try     []string
	// Secret is what every request from the host must carry
	// (agentapi.RequireSecret); Run refuses to start without one. Keep it
	// from the function: Run leaves agentapi.EnvSecret out of the runtime's
	// environment, and Main also removes it from the agent's own and makes
	// the agent's /proc files unreadable to the runtime.
	Secret string
	// Env is the runtime's environment (default os.Environ()); the agent adds
	// AWS_LAMBDA_RUNTIME_API and removes agentapi.EnvSecret.
	Env    []string
	Dir    string       // working directory of the runtime (default: inherited)
	Logger *slog.Logger // the agent's own diagnostics (default: stderr, warnings)
	// Lease, when positive, ends the sandbox once no host has read its event
	// stream for that long: the host keeps one stream open for the
	// instance's life, so a host that died (its kernel closes the stream)
	// stops holding the lease, and its sandbox ends without anyone left to
	// stop it. The host's first stream gets FirstLease (default
	// max(Lease, 30 s)): it opens only once the orchestrator reports the
	// sandbox running.
	Lease      time.Duration
	FirstLease time.Duration
	// ExitGrace bounds how long the agent waits for the host to read the exit
	// event before it exits anyway (default 5 s).
	ExitGrace time.Duration
	// Deferred starts nothing until the host's POST /v1/start, whose
	// environment entries are laid over Env (as an engine lays a container's
	// environment over its image's): a sandbox started ahead of the
	// instance that claims it, so that its runtime still starts fresh, with
	// that instance's environment, at the claim.
	Deferred bool
}

// agent is one run: one runtime process, its Runtime API server and the host API.
type agent struct {
	cfg    Config
	log    *slog.Logger
	srv    *runtimeapi.Server
	events *eventQueue
	out    *runtimeoutput.Capture
	ep     *agentapi.Endpoint // nil without Config.Endpoint

	exited     context.Context // cancelled once the runtime exited
	markExited context.CancelFunc
	stop       context.CancelFunc // ends Run (shutdown)
	rtAddr     string             // the Runtime API's loopback address
	invokeMu   sync.Mutex         // one invocation at a time
	startC     chan []string      // Config.Deferred: the environment POST /v1/start delivers
	started    atomic.Bool        // POST /v1/start was taken
}

// Run starts the runtime and serves the host until the runtime exits, ctx
// ends or the host asks for shutdown. It returns the status the agent should
// exit with: the runtime's own, 128+signal when it was killed, 0 on shutdown.
func Run(ctx context.Context, cfg Config) (int, error) {
	if cfg.Secret == "" {
		return 1, fmt.Errorf("agent: no secret (%s): the agent answers only the host that started it", agentapi.EnvSecret)
	}
	if cfg.Listen == "" {
		cfg.Listen = ":" + strconv.Itoa(agentapi.DefaultPort)
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	cfg.Env = withoutSecret(cfg.Env)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.ExitGrace <= 0 {
		cfg.ExitGrace = 5 * time.Second
	}
	if cfg.Lease > 0 && cfg.FirstLease <= 0 {
		cfg.FirstLease = max(cfg.Lease, 30*time.Second)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	a := &agent{cfg: cfg, log: cfg.Logger, events: newEventQueue(), stop: stop, startC: make(chan []string, 1),
		srv: runtimeapi.NewServer(runtimeapi.Options{Logger: cfg.Logger})}
	a.started.Store(!cfg.Deferred)
	a.exited, a.markExited = context.WithCancel(context.Background())
	defer a.markExited()

	rtLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1, fmt.Errorf("agent: runtime API listener: %w", err)
	}
	a.rtAddr = rtLn.Addr().String()
	hostLn := cfg.Listener
	if hostLn == nil {
		hostLn, err = net.Listen("tcp", cfg.Listen)
	}
	if err != nil {
		rtLn.Close()
		return 1, fmt.Errorf("agent: host API listener: %w", err)
	}
	rtHS := &http.Server{Handler: a.srv.Handler(), ReadHeaderTimeout: time.Minute}
	hostHS := &http.Server{Handler: agentapi.RequireSecret(cfg.Secret, a.routes()), ReadHeaderTimeout: time.Minute}
	var wg sync.WaitGroup
	if epLn := a.endpointListener(); epLn != nil {
		a.ep = agentapi.NewEndpoint(epLn, func(id uint64) {
			a.events.push(agentapi.Event{Type: agentapi.EventTunnel, Tunnel: id})
		}, a.log)
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.ep.Serve() }()
	}
	if cfg.Lease > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); a.holdLease(ctx) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); _ = rtHS.Serve(rtLn) }()
	go func() { defer wg.Done(); _ = hostHS.Serve(hostLn) }()
	defer func() {
		_ = a.srv.Close()
		_ = rtHS.Close()
		if a.ep != nil {
			_ = a.ep.Close() // the sandbox ends: so do its connections to lamb
		}
		// Let an invocation in progress write its trailers; the event stream
		// has ended already.
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = hostHS.Shutdown(sctx)
		cancel()
		_ = hostHS.Close()
		wg.Wait()
	}()

	if cfg.Deferred {
		select {
		case env := <-a.startC:
			a.cfg.Env = withoutSecret(overlay(a.cfg.Env, env))
		case <-ctx.Done():
			return 0, nil
		}
	}
	argv := cfg.Command
	if len(argv) == 0 {
		for _, p := range cfg.Try {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				argv = []string{p}
				break
			}
		}
	}
	if len(argv) == 0 {
		msg := fmt.Sprintf("Couldn't find valid bootstrap(s): %v", cfg.Try)
		body, _ := json.Marshal(map[string]string{"errorType": "Runtime.InvalidEntrypoint", "errorMessage": msg})
		a.events.push(agentapi.Event{Type: agentapi.EventInitError, ErrorType: "Runtime.InvalidEntrypoint", ErrorBody: body})
		a.events.push(agentapi.Event{Type: agentapi.EventExit, Code: 127, Tail: []byte(msg + "\n")})
		a.waitDrained(ctx)
		return 127, nil
	}

	code := a.runRuntime(ctx, argv)
	a.waitDrained(ctx)
	return code, nil
}

// holdLease ends the run (as a shutdown does) once no host has held the
// event stream for the lease time, or ctx ends.
func (a *agent) holdLease(ctx context.Context) {
	lease := a.cfg.FirstLease
	t := time.NewTimer(lease)
	defer t.Stop()
	for {
		n, changed := a.events.hosts()
		if n > 0 {
			t.Stop()
			lease = a.cfg.Lease
		} else {
			t.Reset(lease)
		}
		select {
		case <-changed:
		case <-t.C:
			a.log.Warn("agent: no host has held the lease; ending the sandbox", "lease", lease)
			a.stop()
			return
		case <-ctx.Done():
			return
		}
	}
}

// withoutSecret returns env without agentapi.EnvSecret (and EnvLease).
func withoutSecret(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != agentapi.EnvSecret && k != agentapi.EnvLease {
			out = append(out, kv)
		}
	}
	return out
}

// overlay returns base with each of top's KEY=value entries in place of
// base's entry for the same key, and the others appended.
func overlay(base, top []string) []string {
	at := make(map[string]int, len(base))
	out := append(make([]string, 0, len(base)+len(top)), base...)
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		at[k] = i
	}
	for _, kv := range top {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := at[k]; ok {
			out[i] = kv
			continue
		}
		at[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// endpointListener listens where the function reaches lamb's API; nil when
// it should not or cannot.
func (a *agent) endpointListener() net.Listener {
	if a.cfg.EndpointListener != nil {
		return a.cfg.EndpointListener
	}
	if a.cfg.Endpoint == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.Endpoint)
	if err != nil {
		a.log.Warn("agent: the function cannot reach lamb's API (AWS_ENDPOINT_URL)", "err", err)
		return nil
	}
	return ln
}

// runRuntime starts the runtime and supervises it until it exited; it returns
// the agent's exit status.
func (a *agent) runRuntime(ctx context.Context, argv []string) int {
	pr, pw, err := os.Pipe()
	if err != nil {
		a.exitEvent(-1, "", false, []byte(err.Error()))
		return 1
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append([]string(nil), a.cfg.Env...), "AWS_LAMBDA_RUNTIME_API="+a.runtimeAddr())
	cmd.Dir = a.cfg.Dir
	cmd.Stdout, cmd.Stderr = pw, pw
	// Own process group, so that stopping kills whatever the runtime started too.
	cmd.SysProcAttr = groupAttr() // procgroup_*.go
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		msg := fmt.Sprintf("start %s: %v", argv[0], err)
		body, _ := json.Marshal(map[string]string{"errorType": "Runtime.InvalidEntrypoint", "errorMessage": msg})
		a.events.push(agentapi.Event{Type: agentapi.EventInitError, ErrorType: "Runtime.InvalidEntrypoint", ErrorBody: body})
		a.exitEvent(127, "", false, []byte(msg+"\n"))
		return 127
	}
	pw.Close()
	a.out = runtimeoutput.New(pr, func(line []byte, seq uint64) {
		a.events.push(agentapi.Event{Type: agentapi.EventLog, Line: append([]byte(nil), line...), Seq: seq})
	})
	outDone := make(chan struct{})
	go func() { defer close(outDone); a.out.Run() }()

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	// Init: ready or init error, whichever comes first, while watching for exit.
	readyCh, initErrCh := a.srv.Ready(), a.srv.InitErr()
	var werr error
	exited := false
	for !exited {
		select {
		case <-readyCh:
			a.events.push(agentapi.Event{Type: agentapi.EventReady, InitDuration: time.Since(start)})
			readyCh = nil
		case ie := <-initErrCh:
			a.events.push(agentapi.Event{Type: agentapi.EventInitError, ErrorType: ie.Type, ErrorBody: ie.Body})
			initErrCh = nil
		case werr = <-waited:
			exited = true
		case <-ctx.Done():
			_ = killGroup(cmd.Process)
			werr = <-waited
			exited = true
		}
	}
	a.markExited()
	// Whatever the runtime left behind in its group holds the pipe open.
	_ = killGroup(cmd.Process)
	<-outDone
	if ctx.Err() != nil {
		a.exitEvent(0, "", false, a.out.LastOutput())
		return 0
	}
	code, sig := 0, ""
	var xe *exec.ExitError
	if errors.As(werr, &xe) {
		if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code, sig = -1, ws.Signal().String()
		} else {
			code = xe.ExitCode()
		}
	} else if werr != nil {
		code = -1
	}
	oom := oomKills() > 0
	a.exitEvent(code, sig, oom, a.out.LastOutput())
	if code < 0 {
		if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return 1
	}
	return code
}

func (a *agent) exitEvent(code int, sig string, oom bool, tail []byte) {
	a.events.push(agentapi.Event{Type: agentapi.EventExit, Code: code, Signal: sig, OOM: oom, Tail: tail})
}

func (a *agent) runtimeAddr() string { return a.rtAddr }

// waitDrained gives the host a chance to read the exit event before the agent
// (and with it the container) goes away.
func (a *agent) waitDrained(ctx context.Context) {
	t := time.NewTimer(a.cfg.ExitGrace)
	defer t.Stop()
	select {
	case <-a.events.drained():
	case <-t.C:
	case <-ctx.Done():
	}
}
