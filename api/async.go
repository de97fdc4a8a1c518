package api

import (
	"context"
	"net/http"
	"time"

	"github.com/lambhq/lamb/engine"
)

// Asynchronous (Event) invocations, as AWS runs them: accepted at once, run
// later, and retried after a function error — by default twice, the first
// retry about a minute after the failure and the second two minutes after
// that — until the event is older than its maximum age (6 hours by default).
// The queue lives in memory: events still queued when lamb stops are lost
// (AWS keeps them; a local engine that restarts would run stale events).

const (
	defaultAsyncRetries = 2
	defaultMaxEventAge  = 6 * time.Hour
	asyncQueueSize      = 10000
	asyncWorkers        = 16
)

type asyncEvent struct {
	fn       *engine.Function
	req      *engine.Request
	received time.Time
	attempt  int // retries done so far
}

// enqueueAsync queues an Event invocation. Workers start with the first event.
func (s *Server) enqueueAsync(fn *engine.Function, req *engine.Request) {
	s.asyncOnce.Do(func() {
		s.asyncQ = make(chan *asyncEvent, asyncQueueSize)
		for range asyncWorkers {
			s.goBackground(s.asyncWorker)
		}
	})
	ev := &asyncEvent{fn: fn, req: req, received: time.Now()}
	select {
	case s.asyncQ <- ev:
	default:
		// A full queue is lamb's own overload; run the event when a worker frees
		// rather than losing it or blocking the caller.
		s.goBackground(func(ctx context.Context) {
			select {
			case s.asyncQ <- ev:
			case <-ctx.Done():
			}
		})
	}
}

func (s *Server) asyncWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.asyncQ:
			s.runAsync(ctx, ev)
		}
	}
}

// runAsync runs one attempt of an event and schedules its retry if it failed.
func (s *Server) runAsync(ctx context.Context, ev *asyncEvent) {
	res, err := s.cfg.Engine.Invoke(ctx, ev.fn, ev.req)
	failed := err != nil || res.FunctionError != ""
	if ctx.Err() != nil {
		return
	}
	// The event invoke config of the addressed version or alias
	// (destinations.go) sets retries, maximum age and destinations.
	pol := s.asyncPolicyFor(ctx, ev)
	if !failed {
		s.deliverOutcome(ctx, ev, pol.onSuccess, "Success", res, nil)
		return
	}
	log := s.log.With("function", ev.fn.ARN, "request_id", ev.req.RequestID, "attempt", ev.attempt+1)
	if err != nil {
		log.Warn("async invocation failed", "error", err)
	} else {
		log.Info("async invocation returned a function error", "payload", string(res.Payload))
	}
	if ev.attempt >= pol.retries {
		log.Warn("async event dropped after its retries")
		s.deliverOutcome(ctx, ev, pol.onFailure, "RetriesExhausted", res, err)
		return
	}
	delay := s.asyncRetryDelay() * time.Duration(ev.attempt+1)
	if time.Since(ev.received)+delay > pol.maxAge {
		log.Warn("async event dropped: older than its maximum age")
		s.deliverOutcome(ctx, ev, pol.onFailure, "EventAgeExceeded", res, err)
		return
	}
	ev.attempt++
	s.goBackground(func(ctx context.Context) {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		select {
		case s.asyncQ <- ev:
		case <-ctx.Done():
		}
	})
}

func (s *Server) asyncRetryDelay() time.Duration {
	if s.cfg.AsyncRetryDelay > 0 {
		return s.cfg.AsyncRetryDelay
	}
	return time.Minute
}

// invokeAsync serves the deprecated InvokeAsync operation: an Event invocation
// whose answer is {"Status": 202}.
func (s *Server) invokeAsync(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.cfg.Engine == nil {
		return newError("ServiceException", "lamb: this server runs no engine")
	}
	fn, err := s.lookupFunction(r.Context(), c)
	if err != nil {
		return err
	}
	payload, err := readInvokePayload(r, maxAsyncPayload)
	if err != nil {
		return err
	}
	info := fn.info()
	efn, err := s.engineFunction(info)
	if err != nil {
		return err
	}
	requestID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	s.enqueueAsync(efn, &engine.Request{RequestID: requestID, Payload: payload, InvokedARN: info.FunctionArn, TraceID: traceID()})
	writeJSON(w, http.StatusAccepted, map[string]int{"Status": http.StatusAccepted})
	return nil
}
