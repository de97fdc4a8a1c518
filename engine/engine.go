package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine/backend"
	"github.com/lambhq/lamb/runtimes"
)

// Backend is where instances run; see package backend.
type Backend = backend.Backend

// ErrThrottled means the invocation was refused because the function's
// concurrency limit was reached (AWS: TooManyRequestsException, 429).
var ErrThrottled = errors.New("engine: rate exceeded: concurrency limit reached")

// ErrClosed is returned by calls on an engine after Close.
var ErrClosed = errors.New("engine: closed")

// maxRetries bounds how often an undelivered invocation is retried on a fresh
// instance.
const maxRetries = 4

// Option configures an Engine.
type Option func(*options)

type options struct {
	maxInstances int
	idleTTL      time.Duration
	logger       *slog.Logger
	serverID     string
	logSink      func(fn *Function, line []byte)
	observer     Observer
	debug        []DebugTarget // debug.go
	// Replacing dead provisioned instances (provisioned.go).
	refillBackoff, refillMaxBackoff, refillHealthyAfter time.Duration
}

// WithMaxInstances limits the instances of one function pool (one version and
// configuration) when the function has no reserved concurrency (default 10).
func WithMaxInstances(n int) Option { return func(o *options) { o.maxInstances = n } }

// WithIdleTTL sets how long an idle instance is kept (default 10 minutes); used
// by RunCleanup when it is given no TTL.
func WithIdleTTL(d time.Duration) Option { return func(o *options) { o.idleTTL = d } }

// WithLogger sets the engine's logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithServerID labels instances with the owning server's ID, so a later
// server's Reap can find the ones this server left behind.
func WithServerID(id string) Option { return func(o *options) { o.serverID = id } }

// WithLogSink receives every log line of every instance, including the
// engine's START/END/REPORT lines. Calls may be concurrent (from different
// instances); line is only valid during the call.
func WithLogSink(sink func(fn *Function, line []byte)) Option {
	return func(o *options) { o.logSink = sink }
}

// WithObserver tells o what the engine does (see Observer).
func WithObserver(o Observer) Option { return func(opts *options) { opts.observer = o } }

// Observer is told what the engine does, for metrics and for logs kept per
// instance (CloudWatch Logs' log streams). Calls may be concurrent (from
// different instances and invocations) and must not block; fn and line are
// only valid during the call.
type Observer interface {
	// LogLine is one line of an instance's log, the runtime's output and the
	// engine's START/END/REPORT lines alike. stream is the instance's log
	// stream name as AWS forms it (AWS_LAMBDA_LOG_STREAM_NAME in the
	// instance); fn.LogGroup, or "/aws/lambda/<Name>" when empty, its group.
	LogLine(fn *Function, stream string, line []byte)
	// Invoked reports how one invocation ended, throttled ones included.
	Invoked(fn *Function, inv Invocation)
}

// Invocation is what an Observer learns of one finished invocation.
type Invocation struct {
	RequestID string
	Outcome   Outcome
	// ErrorType is the errorType of the function's error document
	// ("Sandbox.Timedout", "Runtime.ExitError", a handler's exception
	// type...); empty on success.
	ErrorType string
	// Stream is the log stream of the instance that ran it; empty when
	// throttled.
	Stream string
	// Cold is set when an instance was launched for this invocation
	// (InitDuration is then the init phase, when the backend measured it).
	Cold                   bool
	Duration, InitDuration time.Duration
}

// Outcome is how an invocation ended.
type Outcome string

// The outcomes of an invocation. All but OutcomeSuccess, OutcomeThrottled
// and OutcomeAborted are function errors (FunctionError "Unhandled").
const (
	OutcomeSuccess     Outcome = "success"
	OutcomeError       Outcome = "error"         // the runtime reported the handler's error
	OutcomeInitError   Outcome = "init_error"    // the runtime reported an init error
	OutcomeTimeout     Outcome = "timeout"       // the invocation (or init) ran out of time
	OutcomeCrash       Outcome = "crash"         // the runtime exited
	OutcomeOutOfMemory Outcome = "out_of_memory" // the runtime exceeded its memory
	OutcomeThrottled   Outcome = "throttled"     // refused: reserved concurrency reached (ErrThrottled)
	OutcomeAborted     Outcome = "aborted"       // the caller went away or lamb failed; the instance was reset
)

// Engine schedules invocations on pooled instances. It is safe for concurrent use.
type Engine struct {
	b    Backend
	opts options

	// closing is cancelled by Close; launches in flight watch it.
	closing     context.Context
	cancelClose context.CancelFunc
	bg          sync.WaitGroup // background instance stops

	mu      sync.Mutex
	closed  bool
	pools   map[string]*pool
	changed chan struct{} // closed and replaced whenever a slot or instance frees up
}

// InstanceInfo describes one instance for listings (`lamb ps`).
type InstanceInfo struct {
	ID           string
	FunctionName string
	FunctionARN  string
	Version      string
	Backend      string
	State        string // "starting", "idle" or "busy"
	Started      time.Time
	LastUsed     time.Time
}

// New returns an engine running instances on b. It starts no goroutines.
func New(b Backend, opts ...Option) *Engine {
	o := options{
		maxInstances: 10, idleTTL: 10 * time.Minute,
		refillBackoff: defaultRefillBackoff, refillMaxBackoff: defaultRefillMaxBackoff, refillHealthyAfter: defaultRefillHealthyAfter,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.maxInstances <= 0 {
		o.maxInstances = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		b: b, opts: o, closing: ctx, cancelClose: cancel,
		pools: map[string]*pool{}, changed: make(chan struct{}),
	}
}

// Reap removes instances left behind by an earlier server that died; call it
// once at start-up.
func (e *Engine) Reap(ctx context.Context) error {
	if err := e.b.Reap(ctx); err != nil {
		return fmt.Errorf("reap %s backend: %w", e.b.Name(), err)
	}
	return nil
}

// Capabilities reports what the backend enforces.
func (e *Engine) Capabilities() backend.Capabilities { return e.b.Capabilities() }

// StateError is a reason fn can never run on this engine, worded as the
// StateReason and StateReasonCode AWS gives a function in State Failed.
type StateError struct {
	Code   string // one of the Lambda API's StateReasonCode values
	Reason string
}

func (e *StateError) Error() string { return e.Reason }

// Prepull makes fn's image available on the backend (a no-op for backends that
// run no images), reporting progress, and has a backend that can
// (backend.Preparer) start ahead what fn's first launch needs. A function the backend cannot run at
// all gets a *StateError, so that it is Failed at once rather than Active and
// failing at every invoke.
func (e *Engine) Prepull(ctx context.Context, fn *Function, progress func(backend.Progress)) error {
	if fn.packageType() == "Image" && !e.b.Capabilities().Images {
		return &StateError{Code: "InvalidImage", Reason: fmt.Sprintf(
			"lamb's %s backend cannot run container images (PackageType Image); start lamb with --backend docker, podman or kubernetes.", e.b.Name())}
	}
	if fn.usesHostFolders() && !e.b.Capabilities().HostFolders {
		return e.hostFoldersError()
	}
	if n, ok := e.b.(runtimeNoter); ok && fn.packageType() == "Zip" {
		if note := n.RuntimeNote(fn.Runtime); note != "" {
			e.opts.logger.Warn(note, "function", fn.ARN)
		}
	}
	image := e.imageFor(fn)
	if image == "" {
		return nil
	}
	if progress == nil {
		progress = func(backend.Progress) {}
	}
	if err := e.b.Prepull(ctx, image, progress); err != nil {
		return fmt.Errorf("prepull %s: %w", image, err)
	}
	if p, ok := e.b.(backend.Preparer); ok && e.debugFor(fn) == nil {
		// No instance yet: the spec's instance ID and environment are
		// placeholders the backend must not keep (backend.Preparer).
		if err := p.Prepare(ctx, e.specFor(fn, poolKey(fn), "prepare")); err != nil {
			e.opts.logger.Debug("engine: prepare a first launch", "function", fn.ARN, "err", err)
		}
	}
	return nil
}

// CollectArtifacts has the backend remove what it made of code and layer zips
// keep no longer holds (see backend.ArtifactCollector); a no-op on backends
// that keep nothing.
func (e *Engine) CollectArtifacts(ctx context.Context, keep func(sha256 string) bool) (busy int, err error) {
	if c, ok := e.b.(backend.ArtifactCollector); ok {
		return c.CollectArtifacts(ctx, keep)
	}
	return 0, nil
}

// runtimeNoter is implemented by backends that may run a runtime other than
// as AWS does (the process backend, on the host's interpreters): a note for
// the log when a function is created or its code updated, "" when none.
type runtimeNoter interface {
	RuntimeNote(runtime string) string
}

// imageResolver is implemented by backends that choose images for runtimes
// themselves (a runtime→image map the user configured on the backend).
type imageResolver interface {
	ImageFor(runtime, image string) string
}

// imageFor is the image an instance of fn runs: the function's own image, or
// for a Zip function on a backend that runs images, its runtime's image as the
// backend maps it (by default AWS's base image).
func (e *Engine) imageFor(fn *Function) string {
	if fn.packageType() != "Zip" || !e.b.Capabilities().Images {
		return fn.Image
	}
	if r, ok := e.b.(imageResolver); ok {
		return r.ImageFor(fn.Runtime, fn.Image)
	}
	if fn.Image != "" {
		return fn.Image
	}
	if rt, ok := runtimes.Lookup(fn.Runtime); ok {
		return rt.Image
	}
	return ""
}

// broadcastLocked wakes every invocation waiting for a free instance.
func (e *Engine) broadcastLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Close stops every instance and the backend, and waits for background work.
// Invocations in flight fail; later calls return ErrClosed.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.cancelClose()
	var all []*instance
	for _, p := range e.pools {
		// Doomed, idle ones included: they stay in their pools, acquire
		// refuses from now on, and stopAll stops every instance.
		e.retirePoolLocked(p)
		for in := range p.insts {
			all = append(all, in)
		}
	}
	e.broadcastLocked()
	e.mu.Unlock()
	err := e.stopAll(ctx, all)
	e.bg.Wait()
	if cerr := e.b.Close(ctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close backend: %w", cerr))
	}
	return err
}

// Instances lists the engine's instances, oldest first.
func (e *Engine) Instances() []InstanceInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []InstanceInfo
	for _, p := range e.pools {
		for in := range p.insts {
			out = append(out, InstanceInfo{
				ID: in.id, FunctionName: p.name, FunctionARN: p.arn, Version: p.version,
				Backend: e.b.Name(), State: in.state.label(), Started: in.started, LastUsed: in.lastUsed,
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
