package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Defaults for Options.
const (
	// DefaultMaxBufferedBytes is AWS's limit on a buffered response, counted as AWS counts it.
	DefaultMaxBufferedBytes int64 = 6291556
	// DefaultMaxStreamedBytes is AWS's limit on a streamed response (200 MiB).
	DefaultMaxStreamedBytes int64 = 200 << 20
)

// Errors returned by Invoke. They are API: check them with errors.Is.
var (
	// ErrBusy means another Invoke on the same Server has not returned yet.
	ErrBusy = errors.New("runtimeapi: an invocation is already in progress")
	// ErrClosed means the Server was closed.
	ErrClosed = errors.New("runtimeapi: server closed")
	// ErrNotDelivered wraps every Invoke error that happened before the runtime received the
	// invocation, so the caller knows a retry elsewhere cannot run the function twice.
	ErrNotDelivered = errors.New("runtimeapi: invocation not delivered to the runtime")
	// ErrResponseTruncated means the runtime's response body broke off before its end (the
	// runtime crashed or disconnected mid-answer).
	ErrResponseTruncated = errors.New("runtimeapi: runtime response truncated")
)

// Invocation is one request handed to the runtime by GET /next.
type Invocation struct {
	RequestID          string
	Payload            []byte
	Deadline           time.Time // zero means 15 minutes (Lambda's longest timeout) from delivery
	InvokedFunctionARN string
	TraceID            string // Lambda-Runtime-Trace-Id (omitted if empty)
	ClientContext      string // JSON; Lambda-Runtime-Client-Context, sent as is (omitted if empty)
	CognitoIdentity    string // JSON; Lambda-Runtime-Cognito-Identity (omitted if empty)

	// StreamResponse makes the answer stream whatever the runtime's response-mode header says,
	// as AWS does for InvokeWithResponseStream and RESPONSE_STREAM function URLs: runtimes
	// such as aws-lambda-go never send Lambda-Runtime-Function-Response-Mode.
	StreamResponse bool
}

// Response is the runtime's answer to one invocation.
type Response struct {
	// ErrorType is set when the runtime posted /invocation/{id}/error (the
	// Lambda-Runtime-Function-Error-Type header, "Unhandled" if absent), when a buffered
	// response carried error trailers, or ErrorTypeResponseSizeTooLarge for an oversized
	// buffered answer. Empty for a successful answer and for every streamed answer (see Trailer).
	ErrorType string
	// Streaming is true when Body streams (see Invocation.StreamResponse).
	Streaming   bool
	ContentType string
	// Body is the whole answer when buffered. When Streaming, it yields data as the runtime
	// writes it; a read fails when Invoke's ctx ends, the Server closes, or the runtime's
	// request breaks off (ErrResponseTruncated). The caller must Close it; closing early tells
	// the runtime nothing but lets its remaining output be discarded.
	Body io.ReadCloser
	// Trailer returns the error the runtime signalled in the trailers
	// Lambda-Runtime-Function-Error-Type / -Error-Body (body base64-decoded), or
	// ErrorTypeResponseSizeTooLarge when a stream exceeded MaxStreamedBytes. Valid once Body
	// returned io.EOF; ("", nil) when the stream ended cleanly. Never nil.
	Trailer func() (errType string, errBody []byte)
}

// InitError is what the runtime posted to /runtime/init/error.
type InitError struct {
	Type string // Lambda-Runtime-Function-Error-Type header, "Unhandled" if absent
	Body []byte
}

// Options configure a Server. The zero value is usable.
type Options struct {
	Logger           *slog.Logger // default slog.Default()
	MaxBufferedBytes int64        // default DefaultMaxBufferedBytes
	MaxStreamedBytes int64        // default DefaultMaxStreamedBytes
}

// Server serves the Runtime API for one runtime process. Its methods are safe for concurrent use,
// but only one Invoke runs at a time.
type Server struct {
	log         *slog.Logger
	maxBuffered int64
	maxStreamed int64

	ready     chan struct{}
	readyOnce sync.Once
	initErr   chan *InitError
	done      chan struct{}
	closeOnce sync.Once
	calls     chan *call // unbuffered: Invoke offers, a /next poller takes

	mu        sync.Mutex
	m         machine
	current   *call          // delivered and not yet answered
	stream    *io.PipeWriter // the streamed answer in progress, closed by Close
	invoking  bool           // an Invoke call is running
	delivered bool           // the latest Invoke's invocation reached the runtime
}

// call is one invocation travelling between Invoke and the handlers.
type call struct {
	inv       *Invocation
	taken     chan bool       // the /next poller says whether it handed inv out (cap 1)
	result    chan callResult // the answer, handed to Invoke (unbuffered)
	abandoned chan struct{}   // closed by Invoke when it stops waiting for result
}

// errWrongRequestID refuses an answer to an invocation that is not the current one.
var errWrongRequestID = errors.New("not the current invocation")

// answering returns the current invocation if the runtime may now answer it
// with ev and id names it; refuse renders the error. s.mu must be held.
func (s *Server) answering(ev event, id string) (*call, error) {
	if err := s.m.check(ev); err != nil {
		return nil, err
	}
	if c := s.current; c != nil && c.inv.RequestID == id {
		return c, nil
	}
	return nil, errWrongRequestID
}

// refuse answers a call answering refused.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errWrongRequestID) {
		renderInvalidRequestID(w)
		return
	}
	s.forbid(w, r, err)
}

type callResult struct {
	resp *Response
	err  error
}

// NewServer returns a Server in its init state. It starts no goroutines.
func NewServer(opts Options) *Server {
	s := &Server{
		log:         opts.Logger,
		maxBuffered: opts.MaxBufferedBytes,
		maxStreamed: opts.MaxStreamedBytes,
		ready:       make(chan struct{}),
		initErr:     make(chan *InitError, 1),
		done:        make(chan struct{}),
		calls:       make(chan *call),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBuffered <= 0 {
		s.maxBuffered = DefaultMaxBufferedBytes
	}
	if s.maxStreamed <= 0 {
		s.maxStreamed = DefaultMaxStreamedBytes
	}
	return s
}

// Ready is closed when the runtime first calls GET /invocation/next, i.e. its init finished.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitErr receives the runtime's /init/error post, at most once.
func (s *Server) InitErr() <-chan *InitError { return s.initErr }

// Delivered reports whether the most recent Invoke's invocation was handed to the runtime.
// Equivalently, an Invoke error not wrapping ErrNotDelivered happened after delivery.
func (s *Server) Delivered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// Invoke hands inv to the runtime (waiting for it to poll /next) and returns when the runtime
// starts its answer: for a buffered answer once the body is fully read, for a streamed one as
// soon as its headers arrive, or when it posts /error. The function's own failures come back as
// a Response with ErrorType set, not as an error.
//
// Errors: ErrBusy if another Invoke is running; ctx.Err() (errors.Is) when ctx ends; ErrClosed;
// ErrResponseTruncated. Errors before delivery wrap ErrNotDelivered as well. When ctx ends after
// delivery, the runtime's late answer is accepted and discarded.
func (s *Server) Invoke(ctx context.Context, inv *Invocation) (*Response, error) {
	if inv == nil {
		return nil, fmt.Errorf("%w: nil invocation", ErrNotDelivered)
	}
	s.mu.Lock()
	switch {
	case s.m.cur == stateClosed:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrNotDelivered, ErrClosed)
	case s.invoking:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrNotDelivered, ErrBusy)
	}
	s.invoking = true
	s.delivered = false
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.invoking = false
		s.mu.Unlock()
	}()

	c := &call{
		inv:       inv,
		taken:     make(chan bool, 1),
		result:    make(chan callResult),
		abandoned: make(chan struct{}),
	}
	for delivered := false; !delivered; {
		select {
		case s.calls <- c:
			// The poller answers at once: false if its client had just gone away.
			delivered = <-c.taken
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrNotDelivered, ctx.Err())
		case <-s.done:
			return nil, fmt.Errorf("%w: %w", ErrNotDelivered, ErrClosed)
		}
	}
	s.mu.Lock()
	s.delivered = true
	s.mu.Unlock()

	select {
	case res := <-c.result:
		if res.err != nil {
			return nil, res.err
		}
		if sb, ok := res.resp.Body.(*streamBody); ok {
			sb.watch(ctx)
		}
		return res.resp, nil
	case <-ctx.Done():
		close(c.abandoned)
		return nil, ctx.Err()
	case <-s.done:
		close(c.abandoned)
		return nil, ErrClosed
	}
}

// Close ends every waiter: pending /next long-polls return 403, a pending Invoke fails with
// ErrClosed, a streamed Body in progress fails with ErrClosed. Later calls get 403. Connections
// themselves belong to the caller's http.Server. Close is idempotent and always returns nil.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		_ = s.m.fire(eventClose)
		if s.stream != nil {
			s.stream.CloseWithError(ErrClosed)
		}
		s.mu.Unlock()
		close(s.done)
	})
	return nil
}

// isClosed reports whether Close was called.
func (s *Server) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// deliver hands an answer to the waiting Invoke; false if nobody waits any more.
func (s *Server) deliver(c *call, res callResult) bool {
	select {
	case c.result <- res:
		return true
	case <-c.abandoned:
		return false
	case <-s.done:
		return false
	}
}

// finishResponse ends the responding state so that the runtime may poll /next again. It runs
// before the runtime gets its status, since the runtime polls right after.
func (s *Server) finishResponse() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = nil
	s.stream = nil
	if err := s.m.fire(eventResponseDone); err != nil && s.m.cur != stateClosed {
		s.log.Warn("runtimeapi: finishing response", "err", err)
	}
}

// Handler returns the HTTP handler for /2018-06-01/runtime/... .
func (s *Server) Handler() http.Handler { return newRouter(s) }
