package agenthost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambhq/lamb/agent/agentapi"
	"github.com/lambhq/lamb/engine/backend"
)

// maxTail is how much of the runtime's output a Host keeps for init and exit
// errors, as the agent does.
const maxTail = 64 << 10

// ErrEnded is returned by WaitReady when the sandbox ended before its runtime
// was ready, without an init error; the backend says why from its own view
// (Host.ExitErr, Host.EventsErr and what it watched itself).
var ErrEnded = errors.New("sandbox ended before it was ready")

// Config is what a Host needs from its backend.
type Config struct {
	ID  string            // the instance ID
	Log func(line []byte) // backend.Spec.Log; may be nil
	// Kill removes the sandbox at once (a container, a Pod). Stop calls it once;
	// ctx is Stop's, without its cancellation, bounded to 30 seconds. Kill logs
	// its own failures.
	Kill func(ctx context.Context)
	// ExitGrace is how long an invocation whose connection to the agent broke
	// waits for the sandbox's exit to show, to report it as an ExitError; zero:
	// only an exit already seen (or reported by the agent) counts.
	ExitGrace time.Duration
	// LogWait bounds how long Response.Log waits for the event stream to hand
	// Log every line of the call; zero: until the invocation's ctx ends.
	LogWait time.Duration
	// API receives the tunnels the agent asks for, carrying the function's
	// connections to lamb's API (AWS_ENDPOINT_URL); nil: the agent serves no
	// endpoint.
	API *agentapi.Listener
	// Logger gets tunnel failures (default: discard).
	Logger *slog.Logger
}

// Host is the host side of one agent-backed sandbox. It implements
// backend.Instance. The backend's run goroutine calls Follow, MarkExited,
// RecordExit and CloseDone, in this order; Launch calls WaitReady.
type Host struct {
	cfg     Config
	client  *agentapi.Client // set by Follow, before ready closes
	initDur time.Duration

	ready    chan struct{}           // closed on the agent's ready event
	initErr  chan *backend.InitError // the agent's initError event (cap 1)
	exited   context.Context         // cancelled once the runtime or the sandbox is gone
	markExit context.CancelFunc      //
	life     context.Context         // cancelled by Stop and RecordExit
	endLife  context.CancelFunc      //
	done     chan struct{}           // closed by CloseDone
	exitErr  *backend.ExitError      // set before done closes
	stopping atomic.Bool
	stopOnce sync.Once

	logMu     sync.Mutex
	logSeq    uint64        // the last log line handed to Config.Log
	logMoved  chan struct{} // closed and replaced when logSeq grows
	tail      []byte        // the last 64 KiB of output seen on the event stream
	eventsErr error         // why the event stream ended; set by Follow

	tunnelWG sync.WaitGroup       // tunnels being opened and delivered
	tunMu    sync.Mutex           //
	tunnels  map[*tunnel]struct{} // open tunnels, closed when the sandbox ends
	tunEnded bool                 // the sandbox ended: tunnels close at once
}

var _ backend.Instance = (*Host)(nil)

// New returns the Host of a sandbox about to be started. It starts no goroutines.
func New(cfg Config) *Host {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Host{cfg: cfg, ready: make(chan struct{}), initErr: make(chan *backend.InitError, 1),
		done: make(chan struct{}), logMoved: make(chan struct{}), tunnels: map[*tunnel]struct{}{}}
	h.exited, h.markExit = context.WithCancel(context.Background())
	h.life, h.endLife = context.WithCancel(context.Background())
	return h
}

// Life ends when Stop is called or the exit is recorded: the backend's own
// waits on the sandbox (a container wait, a Pod watch) use it.
func (h *Host) Life() context.Context { return h.life }

// Stopping reports whether Stop was called (an exit then is no failure).
func (h *Host) Stopping() bool { return h.stopping.Load() }

// ExitErr is the exit recorded by RecordExit (nil before).
func (h *Host) ExitErr() *backend.ExitError { return h.exitErr }

// EventsErr is why the event stream ended without an exit event (nil when it
// had one or never opened). Valid once Follow returned.
func (h *Host) EventsErr() error { return h.eventsErr }

// Abort ends Life and closes Done for a launch that failed before the
// backend's run goroutine began.
func (h *Host) Abort() {
	h.markExit()
	h.endLife()
	close(h.done)
}

// Follow opens the agent's event stream through client, and hands the events
// on (readiness, init errors, log lines to Config.Log) until the agent's exit
// event, which it returns, or the stream's end (nil; EventsErr says why). The
// agent listens within milliseconds of its start; until it does, dialling is
// refused at once, so Follow retries with a short backoff until ctx ends.
// ctx should end when the sandbox ends: a stream whose peer vanished may
// never see a FIN.
func (h *Host) Follow(ctx context.Context, client *agentapi.Client) *agentapi.Event {
	h.client = client
	es, err := h.connect(ctx)
	if err != nil {
		h.eventsErr = err
		return nil
	}
	defer es.Close()
	ev, err := h.consume(es)
	h.eventsErr = err
	return ev
}

func (h *Host) connect(ctx context.Context) (*agentapi.EventStream, error) {
	delay := time.Millisecond
	for {
		es, err := h.client.Events(ctx)
		if err == nil {
			return es, nil
		}
		if !agentapi.IsDialError(err) || ctx.Err() != nil {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// consume hands events on until the exit event or the stream's end.
func (h *Host) consume(es *agentapi.EventStream) (*agentapi.Event, error) {
	for {
		ev, err := es.Next()
		if err != nil {
			return nil, err
		}
		switch ev.Type {
		case agentapi.EventReady:
			select {
			case <-h.ready:
			default:
				close(h.ready)
			}
		case agentapi.EventInitError:
			select {
			case h.initErr <- &backend.InitError{FunctionError: backend.FunctionError{Type: ev.ErrorType, Body: ev.ErrorBody}}:
			default:
			}
		case agentapi.EventLog:
			h.logLine(ev.Line, ev.Seq)
		case agentapi.EventTunnel:
			h.openTunnel(ev.Tunnel)
		case agentapi.EventExit:
			return ev, nil
		}
	}
}

func (h *Host) logLine(line []byte, seq uint64) {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	if h.cfg.Log != nil {
		h.cfg.Log(line) // under the lock: calls are serialised
	}
	h.tail = append(h.tail, line...)
	h.tail = append(h.tail, '\n')
	if over := len(h.tail) - maxTail; over > 0 {
		h.tail = append(h.tail[:0], h.tail[over:]...)
	}
	if seq > h.logSeq {
		h.logSeq = seq
	}
	close(h.logMoved)
	h.logMoved = make(chan struct{})
}

func (h *Host) tailCopy() []byte {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return bytes.Clone(h.tail)
}

// MarkExited marks the sandbox gone (Invoke refuses new calls and running
// ones end) and returns its exit as far as the agent told it: ev's status,
// or, when ev is nil, code -1 and the output seen so far. The backend
// completes it from its own view and hands it to RecordExit.
func (h *Host) MarkExited(ev *agentapi.Event) *backend.ExitError {
	h.markExit()
	if h.client != nil {
		h.client.CloseIdleConnections()
	}
	h.closeTunnels()
	if ev != nil {
		return &backend.ExitError{Code: ev.Code, Signal: ev.Signal, OOM: ev.OOM, Log: ev.Tail}
	}
	return &backend.ExitError{Code: -1, Log: h.tailCopy()}
}

// RecordExit records xe as the sandbox's exit, which Invoke and WaitReady
// report, and ends Life. The backend then frees the sandbox and calls CloseDone.
func (h *Host) RecordExit(xe *backend.ExitError) {
	h.exitErr = xe
	h.endLife()
}

// CloseDone closes Done: the backend's last step, once the sandbox is freed.
func (h *Host) CloseDone() { close(h.done) }

// WaitReady waits for the runtime's ready event and records InitDuration
// from start. If the runtime reports an init error first, WaitReady stops the
// sandbox and returns it as a *backend.InitError carrying the output so far;
// if the sandbox ends first, it returns that init error when one came, else
// ErrEnded; if ctx ends first, it stops the sandbox and returns ctx.Err().
func (h *Host) WaitReady(ctx context.Context, start time.Time) error {
	select {
	case <-h.ready:
		h.initDur = time.Since(start)
		return nil
	case ie := <-h.initErr:
		_ = h.Stop(context.Background())
		return h.withInitLog(ie)
	case <-h.done:
		// Runtimes usually post their init error and exit at once: prefer the error.
		select {
		case ie := <-h.initErr:
			return h.withInitLog(ie)
		default:
		}
		return ErrEnded
	case <-ctx.Done():
		_ = h.Stop(context.Background())
		return ctx.Err()
	}
}

func (h *Host) withInitLog(ie *backend.InitError) error {
	ie.Log = h.tailCopy()
	return ie
}

// ID implements backend.Instance.
func (h *Host) ID() string { return h.cfg.ID }

// InitDuration implements backend.Instance: from WaitReady's start to the
// runtime's first /next.
func (h *Host) InitDuration() time.Duration { return h.initDur }

// Done implements backend.Instance.
func (h *Host) Done() <-chan struct{} { return h.done }

// Stop implements backend.Instance: it calls Config.Kill once, ends Life and
// waits for Done.
func (h *Host) Stop(ctx context.Context) error {
	h.stopOnce.Do(func() {
		h.stopping.Store(true)
		h.markExit()
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		h.cfg.Kill(kctx)
		h.endLife()
	})
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop instance %s: %w", h.cfg.ID, ctx.Err())
	}
}

// Invoke implements backend.Instance.
func (h *Host) Invoke(ctx context.Context, inv *backend.Invocation) (*backend.Response, error) {
	ictx, release, err := Begin(ctx, h.cfg.ID, h.exited)
	if err != nil {
		return nil, err
	}
	// A conversion: the two types have the same fields, so one that gains a
	// field the other lacks fails to compile rather than being dropped here.
	ai := agentapi.Invocation(*inv)
	resp, err := h.client.Invoke(ictx, &ai)
	if err != nil {
		release()
		if errors.Is(err, agentapi.ErrNotDelivered) {
			return nil, fmt.Errorf("invoke instance %s: %w: %w", h.cfg.ID, backend.ErrNotDelivered, err)
		}
		if xe := h.exitFor(ctx, err); xe != nil {
			return nil, xe
		}
		return nil, fmt.Errorf("invoke instance %s: %w", h.cfg.ID, err)
	}
	return &backend.Response{
		ErrorType: resp.ErrorType, Streaming: resp.Streaming, ContentType: resp.ContentType,
		Body:    NewBody(resp.Body, release, func(err error) error { return h.exitFor(ctx, err) }),
		Trailer: Trailer(resp.Trailer),
		Log: func() []byte {
			log, seq := resp.Log()
			h.waitLog(ctx, seq) // so that Config.Log has every line of the call first
			return log
		},
		MaxMemoryUsedMB: resp.MaxMemoryUsedMB,
	}, nil
}

// exitFor returns the sandbox's ExitError when err was caused by the runtime
// or the sandbox exiting (and not by ctx ending or Stop), waiting for the
// exit to be recorded; nil otherwise.
func (h *Host) exitFor(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	if h.exited.Err() == nil && !errors.Is(err, agentapi.ErrRuntimeExited) {
		if h.cfg.ExitGrace <= 0 {
			return nil
		}
		// A broken connection to the agent usually means the sandbox is going
		// away; the exit shows up on the event stream within moments.
		t := time.NewTimer(h.cfg.ExitGrace)
		select {
		case <-h.exited.Done():
			t.Stop()
		case <-t.C:
			return nil
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
	select {
	case <-h.done:
	case <-ctx.Done():
		return nil
	}
	if h.stopping.Load() || h.exitErr == nil {
		return nil
	}
	return h.exitErr
}

// openTunnel opens the tunnel the agent asked for and hands it to
// Config.API, off the event stream's goroutine; the sandbox's end stops it.
// The agent bounds how many it asks for (agentapi.MaxTunnels).
func (h *Host) openTunnel(id uint64) {
	if h.cfg.API == nil {
		return // the agent's connection expires
	}
	h.tunMu.Lock()
	defer h.tunMu.Unlock()
	if h.tunEnded {
		return
	}
	h.tunnelWG.Add(1)
	go func() {
		defer h.tunnelWG.Done()
		nc, err := h.client.Tunnel(h.exited, id)
		if err != nil {
			if h.exited.Err() == nil {
				h.cfg.Logger.Warn("sandbox: open tunnel to lamb's API", "instance", h.cfg.ID, "err", err)
			}
			return
		}
		t := &tunnel{Conn: nc, h: h}
		h.tunMu.Lock()
		if h.tunEnded {
			h.tunMu.Unlock()
			nc.Close()
			return
		}
		h.tunnels[t] = struct{}{}
		h.tunMu.Unlock()
		// lamb shutting down closes API: no warning for that.
		if err := h.cfg.API.Deliver(h.exited, t); err != nil && h.exited.Err() == nil && !errors.Is(err, agentapi.ErrListenerClosed) {
			h.cfg.Logger.Warn("sandbox: hand a tunnel to lamb's API", "instance", h.cfg.ID, "err", err)
		}
	}()
}

// closeTunnels closes the sandbox's tunnels (a sandbox killed from outside
// may never send their FIN) and waits for those being opened.
func (h *Host) closeTunnels() {
	h.tunMu.Lock()
	h.tunEnded = true
	open := make([]*tunnel, 0, len(h.tunnels))
	for t := range h.tunnels {
		open = append(open, t)
	}
	h.tunMu.Unlock()
	for _, t := range open {
		t.Close()
	}
	h.tunnelWG.Wait()
}

// tunnel is one tunnel, known to its Host until closed.
type tunnel struct {
	net.Conn
	h    *Host
	once sync.Once
}

func (t *tunnel) Close() error {
	err := t.Conn.Close()
	t.once.Do(func() {
		t.h.tunMu.Lock()
		delete(t.h.tunnels, t)
		t.h.tunMu.Unlock()
	})
	return err
}

// CloseWrite passes a half-close on, as the connection under it does.
func (t *tunnel) CloseWrite() error {
	if cw, ok := t.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// waitLog waits until Config.Log has seen line seq (the lines travel on the
// event stream, the answer on its own connection) or the sandbox ended; and
// at most Config.LogWait (the stream is stuck: the log is still returned),
// else until ctx ends.
func (h *Host) waitLog(ctx context.Context, seq uint64) {
	var stuck <-chan time.Time
	cancelled := ctx.Done()
	if h.cfg.LogWait > 0 {
		t := time.NewTimer(h.cfg.LogWait)
		defer t.Stop()
		stuck, cancelled = t.C, nil
	}
	for {
		h.logMu.Lock()
		if h.logSeq >= seq {
			h.logMu.Unlock()
			return
		}
		moved := h.logMoved
		h.logMu.Unlock()
		select {
		case <-moved:
		case <-h.exited.Done():
			return
		case <-stuck:
			return
		case <-cancelled:
			return
		}
	}
}
