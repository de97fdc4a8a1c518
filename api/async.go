package api

import (
	"context"
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
	if !failed {
		return
	}
	if ctx.Err() != nil {
		return
	}
	log := s.log.With("function", ev.fn.ARN, "request_id", ev.req.RequestID, "attempt", ev.attempt+1)
	if err != nil {
		log.Warn("async invocation failed", "error", err)
	} else {
		log.Info("async invocation returned a function error", "payload", string(res.Payload))
	}
	if ev.attempt >= defaultAsyncRetries {
		log.Warn("async event dropped after its retries")
		return
	}
	delay := s.asyncRetryDelay() * time.Duration(ev.attempt+1)
	if time.Since(ev.received)+delay > defaultMaxEventAge {
		log.Warn("async event dropped: older than its maximum age")
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
