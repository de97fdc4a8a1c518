package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine/backend"
)

// maxLogBytes bounds the log kept per invocation (AWS keeps more in CloudWatch,
// but the API only ever returns the last 4 KB).
const maxLogBytes = 64 << 10

// Invoke runs one invocation and returns its result once the function finished.
// The error is non-nil only for failures of lamb itself, ErrThrottled,
// ErrClosed or ctx ending; the function's own failures are in the Result.
func (e *Engine) Invoke(ctx context.Context, fn *Function, req *Request) (*Result, error) {
	s, err := e.invoke(ctx, fn, req, false)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	payload, err := io.ReadAll(s)
	if err != nil {
		return nil, err
	}
	res := s.Result()
	if res.FunctionError == "" {
		res.Payload = payload
	}
	return res, nil
}

// Stream is an invocation whose response is read as the function writes it.
// Read returns the response's chunks and io.EOF at its end, also when the
// function failed (a timeout, a crash, an error trailer): Result then tells.
// Read returns another error only when ctx ended or lamb failed. The instance
// stays reserved until Read returned io.EOF or Close was called; closing a
// stream before its end resets (stops) the instance, since the function is
// still running. Read and Close may be called from different goroutines.
type Stream struct {
	// ContentType is the content type the runtime declared for its response.
	ContentType string

	e      *Engine
	fn     *Function
	req    *Request
	parent context.Context
	ictx   context.Context
	cancel context.CancelFunc
	in     *instance
	cold   bool
	start  time.Time
	resp   *backend.Response
	// logStream is the log stream of the instance (also of one that failed
	// to launch, when s.in is nil).
	logStream string

	mu   sync.Mutex
	done bool
	res  *Result
}

// Read reads the next bytes of the response.
func (s *Stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return 0, io.EOF
	}
	body := s.resp.Body
	s.mu.Unlock()
	n, err := body.Read(p)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF):
		s.finishOK()
		return n, io.EOF
	default:
		return n, s.finishErr(err)
	}
}

// Close releases the stream. Closing before io.EOF aborts the invocation.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	_ = s.resp.Body.Close()
	s.finish(outcome{reset: true, log: s.instanceLog(), outcome: OutcomeAborted})
	return nil
}

// Result is the invocation's outcome: FunctionError and its payload (a
// successful stream's payload is what Read returned, so Payload is nil), the
// log and durations. It is nil until Read returned io.EOF or Close was called.
func (s *Stream) Result() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.res
}

// outcome is how an invocation ended.
type outcome struct {
	payload  []byte
	fnErr    bool   // FunctionError "Unhandled"
	log      []byte // the runtime's output during the invocation
	extraLog string // platform lines appended after the runtime's output
	reset    bool   // stop the instance instead of reusing it
	stopped  bool   // the instance was already stopped
	outcome  Outcome
}

func (s *Stream) finishOK() {
	o := outcome{log: s.responseLog()}
	if s.resp.Trailer != nil {
		if fe := s.resp.Trailer(); fe != nil {
			o.fnErr, o.payload, o.outcome = true, fe.Body, OutcomeError
		}
	}
	s.finish(o)
}

// finishErr classifies a failure while the response was being read.
func (s *Stream) finishErr(err error) error {
	var xe *backend.ExitError
	switch {
	case s.parent.Err() != nil:
		s.finish(outcome{reset: true, log: s.instanceLog(), outcome: OutcomeAborted})
		return s.parent.Err()
	case s.ictx.Err() != nil:
		s.finish(s.timeoutOutcome())
		return io.EOF
	case errors.As(err, &xe):
		s.finish(s.exitOutcome(xe))
		return io.EOF
	default:
		s.finish(outcome{reset: true, log: s.instanceLog(), outcome: OutcomeAborted})
		return fmt.Errorf("read response of %s: %w", s.fn.Name, err)
	}
}

func (s *Stream) timeoutOutcome() outcome {
	// Stop first so every line the runtime wrote has been delivered.
	s.stopInstance()
	msg := fmt.Sprintf("Task timed out after %.2f seconds", s.fn.timeout().Seconds())
	return outcome{
		payload: errorDoc("Sandbox.Timedout", s.req.RequestID, msg), fnErr: true,
		log:      s.instanceLog(),
		extraLog: fmt.Sprintf("%s %s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), s.req.RequestID, msg),
		reset:    true, stopped: true, outcome: OutcomeTimeout,
	}
}

func (s *Stream) exitOutcome(xe *backend.ExitError) outcome {
	errType, kind := "Runtime.ExitError", OutcomeCrash
	if xe.OOM {
		errType, kind = "Runtime.OutOfMemory", OutcomeOutOfMemory
	}
	msg := exitMessage(xe)
	log := xe.Log
	if len(log) == 0 && s.in != nil {
		s.stopInstance()
		log = s.instanceLog()
	}
	return outcome{
		payload: errorDoc(errType, s.req.RequestID, msg), fnErr: true, log: log,
		extraLog: fmt.Sprintf("RequestId: %s Error: %s\n%s\n", s.req.RequestID, msg, errType),
		reset:    true, outcome: kind,
	}
}

// exitMessage words a runtime's exit as AWS does. AWS's RAPID is Go and
// prints the runtime's exec error after "Runtime exited with error: ", so an
// exit status N reads "exit status N" and a signal "signal: <name>" as Go
// names it ("segmentation fault", "killed"); a runtime that exits with status
// 0 before answering gets "Runtime exited without providing a reason" (AWS's
// own example of a runtime crash, "Failure during the invoke phase" in
// docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
func exitMessage(xe *backend.ExitError) string {
	switch {
	case xe.OOM:
		// AWS's cgroup kills an instance over its memory; backends that detect
		// OOM otherwise (a heap limit, MemoryError) still report it as AWS does.
		return "Runtime exited with error: signal: killed"
	case xe.Signal != "":
		return "Runtime exited with error: signal: " + xe.Signal
	case xe.Code == 0:
		return "Runtime exited without providing a reason"
	default:
		return fmt.Sprintf("Runtime exited with error: exit status %d", xe.Code)
	}
}

func (s *Stream) stopInstance() {
	if s.in == nil || s.in.b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.in.b.Stop(ctx); err != nil {
		s.e.opts.logger.Warn("stop instance", "instance", s.in.id, "err", err)
	}
}

// responseLog is the runtime's output for this invocation: the backend's
// per-invocation log when it has one, else what the engine collected.
func (s *Stream) responseLog() []byte {
	if s.resp != nil && s.resp.Log != nil {
		return s.resp.Log()
	}
	return s.instanceLog()
}

func (s *Stream) instanceLog() []byte {
	if s.in == nil {
		return nil
	}
	return s.in.takeLog()
}

// finish builds the Result once and returns the instance.
func (s *Stream) finish(o outcome) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	s.mu.Unlock()

	dur := time.Since(s.start)
	memUsed := 0
	if s.resp != nil && s.resp.MaxMemoryUsedMB != nil {
		memUsed = s.resp.MaxMemoryUsedMB()
	}
	var initDur time.Duration
	if s.cold && s.in != nil && s.in.b != nil {
		initDur = s.in.b.InitDuration()
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.in != nil {
		if o.reset && !o.stopped {
			s.stopInstance()
		}
		s.e.release(s.in, !o.reset)
	}
	res := &Result{
		Payload: o.payload, ExecutedVersion: s.fn.version(),
		Duration: dur, InitDuration: initDur,
	}
	if o.fnErr {
		res.FunctionError = "Unhandled"
	}
	res.Log = s.e.formatLog(s.fn, s.logStream, s.req.RequestID, o, dur, initDur, memUsed)
	s.mu.Lock()
	s.res = res
	s.mu.Unlock()
	if obs := s.e.opts.observer; obs != nil {
		kind := o.outcome
		if kind == "" {
			kind = OutcomeSuccess
			if o.fnErr {
				kind = OutcomeError
			}
		}
		inv := Invocation{RequestID: s.req.RequestID, Outcome: kind, Stream: s.logStream, Cold: s.cold,
			Duration: dur, InitDuration: initDur}
		if o.fnErr {
			inv.ErrorType = errorTypeOf(o.payload)
		}
		obs.Invoked(s.fn, inv)
	}
}

// errorTypeOf reads the errorType of an error document ("" when it has none).
func errorTypeOf(doc []byte) string {
	var d struct {
		ErrorType string `json:"errorType"`
	}
	_ = json.Unmarshal(doc, &d) // a runtime may post anything as its error
	return d.ErrorType
}

// formatLog writes the invocation's log as AWS does and feeds the lines after
// the runtime's output to the log sink (START was fed when the invocation
// began). The platform's lines are in the function's log format
// (platformlog.go).
func (e *Engine) formatLog(fn *Function, stream, id string, o outcome, dur, initDur time.Duration, memUsed int) []byte {
	now := time.Now()
	status, errType := reportStatus(o)
	start := startLine(fn, id, now.Add(-dur))
	end := endLines(fn, id, now, dur, status, errType)
	// One buffer for the whole log, sized for the text REPORT line.
	b := make([]byte, 0, len(start)+len(o.log)+1+len(o.extraLog)+len(end)+200+len(id))
	b = append(b, start...)
	b = append(b, o.log...)
	if len(o.log) > 0 && o.log[len(o.log)-1] != '\n' {
		b = append(b, '\n')
	}
	after := len(b)
	b = append(b, o.extraLog...)
	b = append(b, end...)
	if fn.jsonLogs() {
		b = append(b, reportLine(fn, id, now, dur, initDur, memUsed, status, errType)...)
	} else {
		b = appendReport(b, fn, id, dur, initDur, memUsed)
	}
	// The lines after the runtime's output go to the sink, as slices of the
	// log (which nobody modifies).
	for rest := b[after:]; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) > 0 {
			e.emit(fn, stream, line)
		}
	}
	return b
}

func (e *Engine) emitStart(fn *Function, stream, id string) {
	if l := startLine(fn, id, time.Now()); l != "" {
		e.emit(fn, stream, []byte(l[:len(l)-1]))
	}
}

// emitInitStart logs platform.initStart as an instance's init begins (JSON
// logs only).
func (e *Engine) emitInitStart(fn *Function, stream, initType string) {
	if l := initStartLine(fn, initType, time.Now()); l != "" {
		e.emit(fn, stream, []byte(l[:len(l)-1]))
	}
}

func (e *Engine) emit(fn *Function, stream string, line []byte) {
	if e.opts.logSink != nil {
		e.opts.logSink(fn, line)
	}
	if e.opts.observer != nil {
		e.opts.observer.LogLine(fn, stream, line)
	}
}

// InvokeStream starts one invocation and returns once the function began its
// answer. ctx must stay alive while the stream is read. Errors are as Invoke's.
func (e *Engine) InvokeStream(ctx context.Context, fn *Function, req *Request) (*Stream, error) {
	return e.invoke(ctx, fn, req, true)
}

func (e *Engine) invoke(ctx context.Context, fn *Function, req *Request, stream bool) (*Stream, error) {
	key := poolKey(fn)
	invoked := req.InvokedARN
	if invoked == "" {
		invoked = fn.ARN
	}
	started := false
	var lastErr error
	for attempt := 0; attempt <= maxRetries; attempt++ {
		in, cold, err := e.acquire(ctx, fn, key)
		if err != nil {
			var s *Stream
			if s, err = e.launchFailure(ctx, fn, req, in, err); err == nil {
				return s, nil
			}
			if errors.Is(err, ErrThrottled) && e.opts.observer != nil {
				e.opts.observer.Invoked(fn, Invocation{RequestID: req.RequestID, Outcome: OutcomeThrottled})
			}
			if errors.Is(err, backend.ErrNotDelivered) && ctx.Err() == nil {
				lastErr = err
				continue
			}
			return nil, err
		}
		if !started {
			started = true
			e.emitStart(fn, in.logStream, req.RequestID)
		}
		in.beginLog()
		start := time.Now()
		deadline := start.Add(fn.timeout())
		ictx, cancel := context.WithDeadline(ctx, deadline)
		if in.debug != nil {
			// Timeout suspended: a call may be paused at a breakpoint (debug.go).
			cancel()
			deadline = start.Add(debugRuntimeDeadline)
			ictx, cancel = context.WithCancel(ctx)
		}
		s := &Stream{e: e, fn: fn, req: req, parent: ctx, ictx: ictx, cancel: cancel, in: in, cold: cold, start: start,
			logStream: in.logStream}
		var resp *backend.Response
		if isDone(in.b) {
			err = fmt.Errorf("instance %s exited: %w", in.id, backend.ErrNotDelivered)
		} else {
			resp, err = in.b.Invoke(ictx, &backend.Invocation{
				RequestID: req.RequestID, Payload: req.Payload, Deadline: deadline,
				InvokedFunctionARN: invoked, TraceID: req.TraceID,
				ClientContext: req.ClientContext, CognitoIdentity: req.CognitoIdentity,
				StreamResponse: stream,
			})
		}
		if err != nil {
			if errors.Is(err, backend.ErrNotDelivered) && ctx.Err() == nil && ictx.Err() == nil {
				cancel()
				e.release(in, false)
				lastErr = err
				continue
			}
			s.resp = &backend.Response{Body: io.NopCloser(bytes.NewReader(nil))}
			if ferr := s.finishErr(err); !errors.Is(ferr, io.EOF) {
				return nil, ferr
			}
			return s, nil
		}
		s.resp, s.ContentType = resp, resp.ContentType
		if resp.ErrorType != "" {
			body, rerr := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if rerr != nil {
				if ferr := s.finishErr(rerr); !errors.Is(ferr, io.EOF) {
					return nil, ferr
				}
				return s, nil
			}
			s.finish(outcome{payload: body, fnErr: true, log: s.responseLog()})
		}
		return s, nil
	}
	return nil, fmt.Errorf("invoke %s: gave up after %d retries: %w", fn.Name, maxRetries, lastErr)
}

// launchFailure turns a failed acquire into a finished Stream when the
// function is to blame (init error, crash, init timeout); other errors are
// returned.
func (e *Engine) launchFailure(ctx context.Context, fn *Function, req *Request, failed *instance, err error) (*Stream, error) {
	var (
		ie *backend.InitError
		xe *backend.ExitError
		lt *launchTimeout
	)
	s := &Stream{e: e, fn: fn, req: req, parent: ctx, ictx: ctx, start: time.Now(), cold: true,
		resp: &backend.Response{Body: io.NopCloser(bytes.NewReader(nil))}}
	if failed != nil {
		s.logStream = failed.logStream
	}
	switch {
	case errors.As(err, &ie):
		e.emitStart(fn, s.logStream, req.RequestID)
		s.finish(outcome{payload: ie.Body, fnErr: true, log: ie.Log, outcome: OutcomeInitError})
	case errors.As(err, &xe):
		e.emitStart(fn, s.logStream, req.RequestID)
		s.finish(s.exitOutcome(xe))
	case errors.As(err, &lt):
		e.emitStart(fn, s.logStream, req.RequestID)
		o := s.timeoutOutcome()
		o.log = nil
		s.finish(o)
	default:
		return nil, err
	}
	return s, nil
}

// Per-instance log capture: the engine keeps what the runtime wrote during the
// current invocation, for failures where the backend cannot hand a log over
// (timeouts, crashes).

type lineLog struct {
	mu  sync.Mutex
	buf []byte
	on  bool
}

func (in *instance) beginLog() {
	in.log.mu.Lock()
	in.log.buf, in.log.on = in.log.buf[:0], true
	in.log.mu.Unlock()
}

func (in *instance) appendLog(line []byte) {
	in.log.mu.Lock()
	defer in.log.mu.Unlock()
	if !in.log.on {
		return
	}
	in.log.buf = append(in.log.buf, line...)
	in.log.buf = append(in.log.buf, '\n')
	if over := len(in.log.buf) - maxLogBytes; over > 0 {
		in.log.buf = append(in.log.buf[:0], in.log.buf[over:]...)
	}
}

func (in *instance) takeLog() []byte {
	in.log.mu.Lock()
	defer in.log.mu.Unlock()
	in.log.on = false
	return bytes.Clone(in.log.buf)
}
