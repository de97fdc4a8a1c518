package api

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/store"
)

// Asynchronous (Event) invocations, as AWS runs them: accepted at once, run
// later, and retried after a function error — by default twice, the first
// retry about a minute after the failure and the second two minutes after
// that — until the event is older than its maximum age (6 hours by default),
// counted from its first enqueue. A throttled attempt (the function's
// reserved concurrency is in use) is no retry: the event goes back to the
// queue with a short backoff, within its maximum age.
//
// The queue is durable: an event is in the store (bucketAsyncEvents) before
// its 202, and leaves it only when it has run (its success destination
// delivered) or has failed for good (its failure destination delivered). A
// retry rewrites its attempt count and next run. A Server started on the
// same store runs what an earlier one left, so after a crash an event runs
// at least once — twice if the crash came between its run and its delete,
// as AWS also allows. Memory holds only each queued event's key, size and
// next run; workers read the record when they run it.
//
// The queue is bounded, in events and in bytes of stored records
// (Config.AsyncQueueMaxEvents, AsyncQueueMaxBytes): beyond the bound an Event
// invocation is refused with a 429 TooManyRequestsException.

const (
	defaultAsyncRetries = 2
	defaultMaxEventAge  = 6 * time.Hour
	asyncWorkers        = 16

	// DefaultAsyncQueueMaxEvents and DefaultAsyncQueueMaxBytes bound the
	// queue of Event invocations when Config leaves them zero.
	DefaultAsyncQueueMaxEvents = 10000
	DefaultAsyncQueueMaxBytes  = 256 << 20

	// A throttled attempt waits throttleBackoffMin, doubled per throttle of
	// the same event, at most throttleBackoffMax. AWS backs off from 1 s to
	// 5 min; lamb caps it lower so that a function with a small reserved
	// concurrency drains its queue instead of idling.
	throttleBackoffMin = 100 * time.Millisecond
	throttleBackoffMax = 2 * time.Second

	// An attempt that never reached the function (the engine down or
	// restarting, an instance that cannot start) is a system error: as AWS
	// does, the event goes back to the queue without using a retry, backing
	// off from systemBackoffMin, doubled per such error of the same event,
	// at most systemBackoffMax, until its maximum age.
	systemBackoffMin = 500 * time.Millisecond
	systemBackoffMax = 30 * time.Second
)

// asyncEvent is one attempt of an Event invocation (async_outcome.go reads it).
type asyncEvent struct {
	fn       *engine.Function
	req      *engine.Request
	received time.Time // the first enqueue
	attempt  int       // retries done so far
}

// asyncRecord is an Event invocation as stored, key asyncEventKey.
type asyncRecord struct {
	// Function is the function version as invoked (aliases resolved at
	// enqueue): the event runs with the configuration it was accepted for.
	Function        FunctionInfo `json:"function"`
	RequestID       string       `json:"requestId"`
	InvokedARN      string       `json:"invokedArn"`
	Payload         []byte       `json:"payload"`
	ClientContext   string       `json:"clientContext,omitempty"`
	CognitoIdentity string       `json:"cognitoIdentity,omitempty"`
	TraceID         string       `json:"traceId,omitempty"`
	FirstEnqueued   time.Time    `json:"firstEnqueued"`
	Attempt         int          `json:"attempt"` // retries done so far
	NextRun         time.Time    `json:"nextRun"`
}

// asyncEventKey is <account>/<region>/<first enqueue, ns, 20 digits>/<request id>.
func asyncEventKey(account, region string, enqueued time.Time, requestID string) string {
	return fmt.Sprintf("%s/%s/%020d/%s", account, region, enqueued.UnixNano(), requestID)
}

// asyncItem is what memory holds of a queued event.
type asyncItem struct {
	key       string
	size      int64
	next      time.Time
	throttles int // throttled attempts in a row (not stored)
	sysErrs   int // attempts in a row that failed with a system error (not stored)
}

// asyncHeap orders items by next run.
type asyncHeap []*asyncItem

func (h asyncHeap) Len() int           { return len(h) }
func (h asyncHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h asyncHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *asyncHeap) Push(x any)        { *h = append(*h, x.(*asyncItem)) }
func (h *asyncHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// asyncQueue is the Server's queue of Event invocations. Every stored event
// is counted in count and bytes from its enqueue (or load) to its delete;
// it is in ready unless a worker holds it.
type asyncQueue struct {
	start sync.Once
	mu    sync.Mutex
	ready asyncHeap
	count int
	bytes int64
	wake  chan struct{} // capacity 1: the dispatcher re-reads ready
	work  chan *asyncItem
}

// errAsyncQueueFull is the answer to an Event invocation beyond the bound.
// TooManyRequestsException is the model's 429; its ThrottleReason enum has
// no value for a full event queue, so lamb answers with
// FunctionInvocationRateLimitExceeded, the reason of AWS's own limit on
// asynchronous invocation requests ("Invocation requests per function per
// Region (asynchronous)").
var errAsyncQueueFull = &awsError{Code: "TooManyRequestsException", Status: http.StatusTooManyRequests,
	Message: "Rate Exceeded.", Reason: "FunctionInvocationRateLimitExceeded"}

func (s *Server) asyncLimits() (int, int64) {
	n, b := s.cfg.AsyncQueueMaxEvents, s.cfg.AsyncQueueMaxBytes
	if n <= 0 {
		n = DefaultAsyncQueueMaxEvents
	}
	if b <= 0 {
		b = DefaultAsyncQueueMaxBytes
	}
	return n, b
}

// RestoreAsync loads the Event invocations an earlier server left in the
// store and starts running them. Enqueueing does the same on first use.
func (s *Server) RestoreAsync(ctx context.Context) error {
	return s.startAsync(ctx)
}

// startAsync loads the stored queue once and starts the dispatcher and the
// workers (owned by the Server).
func (s *Server) startAsync(ctx context.Context) error {
	if s.cfg.Engine == nil {
		return nil // nothing can run them; they stay stored
	}
	q := &s.async
	var err error
	q.start.Do(func() {
		q.wake = make(chan struct{}, 1)
		q.work = make(chan *asyncItem)
		err = s.store.View(ctx, func(tx store.Tx) error {
			return tx.Scan(bucketAsyncEvents, "", "", func(key string, raw []byte) error {
				var rec struct {
					NextRun time.Time `json:"nextRun"`
				}
				if err := json.Unmarshal(raw, &rec); err != nil {
					s.log.Error("async event unreadable; dropped", "key", key, "error", err)
					return nil
				}
				q.ready = append(q.ready, &asyncItem{key: key, size: int64(len(raw)), next: rec.NextRun})
				q.count++
				q.bytes += int64(len(raw))
				return nil
			})
		})
		heap.Init(&q.ready)
		if err != nil {
			err = fmt.Errorf("load async events: %w", err)
		} else if q.count > 0 {
			s.log.Info("async events restored", "events", q.count, "bytes", q.bytes)
		}
		s.goBackground(s.asyncDispatch)
		for range asyncWorkers {
			s.goBackground(s.asyncWorker)
		}
	})
	return err
}

// enqueueAsync stores an Event invocation and queues it. It fails with a 429
// when the queue is full, and when the store cannot keep the event.
func (s *Server) enqueueAsync(ctx context.Context, fn FunctionInfo, req *engine.Request) error {
	if err := s.startAsync(ctx); err != nil {
		s.log.Error("async queue", "error", err)
	}
	now := time.Now()
	rec := &asyncRecord{Function: fn, RequestID: req.RequestID, InvokedARN: req.InvokedARN, Payload: req.Payload,
		ClientContext: req.ClientContext, CognitoIdentity: req.CognitoIdentity, TraceID: req.TraceID,
		FirstEnqueued: now, NextRun: now}
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("async event: %w", err)
	}
	it := &asyncItem{key: asyncEventKey(fn.AccountID, fn.Region, now, req.RequestID), size: int64(len(raw)), next: now}
	q := &s.async
	maxN, maxB := s.asyncLimits()
	q.mu.Lock()
	if q.count+1 > maxN || q.bytes+it.size > maxB {
		n, b := q.count, q.bytes
		q.mu.Unlock()
		s.log.Warn("async queue full: event refused", "function", fn.FunctionArn, "events", n, "bytes", b)
		return errAsyncQueueFull
	}
	q.count++
	q.bytes += it.size
	q.mu.Unlock()
	if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.Put(bucketAsyncEvents, it.key, rec) }); err != nil {
		s.asyncForget(it)
		return fmt.Errorf("store async event: %w", err)
	}
	s.asyncReady(it)
	return nil
}

// asyncReady puts a stored item (back) in the ready heap.
func (s *Server) asyncReady(it *asyncItem) {
	q := &s.async
	q.mu.Lock()
	heap.Push(&q.ready, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// asyncForget releases the bound an item held (its record is deleted).
func (s *Server) asyncForget(it *asyncItem) {
	q := &s.async
	q.mu.Lock()
	q.count--
	q.bytes -= it.size
	q.mu.Unlock()
}

// asyncDispatch hands due items to the workers, in order of next run.
func (s *Server) asyncDispatch(ctx context.Context) {
	q := &s.async
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		q.mu.Lock()
		var due *asyncItem
		wait := time.Hour
		if len(q.ready) > 0 {
			if d := time.Until(q.ready[0].next); d <= 0 {
				due = heap.Pop(&q.ready).(*asyncItem)
			} else {
				wait = d
			}
		}
		q.mu.Unlock()
		if due != nil {
			select {
			case q.work <- due:
				continue
			case <-ctx.Done():
				return
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (s *Server) asyncWorker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-s.async.work:
			s.runAsync(ctx, it)
		}
	}
}

// runAsync runs one attempt of a stored event and then deletes it, schedules
// its retry, or puts it back after a throttle. Stopped midway (the Server
// closing), it leaves the record as it was: the next server runs it again.
func (s *Server) runAsync(ctx context.Context, it *asyncItem) {
	var rec asyncRecord
	err := s.store.View(ctx, func(tx store.Tx) error { return tx.Get(bucketAsyncEvents, it.key, &rec) })
	if errors.Is(err, store.ErrNotFound) {
		s.asyncForget(it)
		return
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("async event unreadable; retrying", "key", it.key, "error", err)
			it.next = time.Now().Add(time.Second)
			s.asyncReady(it)
		}
		return
	}
	efn, err := s.engineFunction(rec.Function)
	if err != nil {
		s.log.Error("async event: function unusable; dropped", "key", it.key, "error", err)
		s.asyncDone(ctx, it)
		return
	}
	ev := &asyncEvent{fn: efn, received: rec.FirstEnqueued, attempt: rec.Attempt, req: &engine.Request{
		RequestID: rec.RequestID, Payload: rec.Payload, InvokedARN: rec.InvokedARN,
		ClientContext: rec.ClientContext, CognitoIdentity: rec.CognitoIdentity, TraceID: rec.TraceID}}
	log := s.log.With("function", efn.ARN, "request_id", rec.RequestID, "attempt", rec.Attempt+1)
	// The event invoke config of the addressed version or alias
	// (async_outcome.go) sets retries, maximum age and destinations.
	pol := s.asyncPolicyFor(ctx, ev)
	if time.Since(rec.FirstEnqueued) > pol.maxAge {
		log.Warn("async event dropped: older than its maximum age")
		s.deliverOutcome(ctx, ev, pol.onFailure, "EventAgeExceeded", nil, nil)
		s.asyncDone(ctx, it)
		return
	}

	res, err := s.cfg.Engine.Invoke(ctx, efn, ev.req)
	if ctx.Err() != nil {
		return
	}
	if errors.Is(err, engine.ErrClosed) {
		return // lamb is stopping: the record stays for the next server
	}
	if errors.Is(err, engine.ErrThrottled) {
		delay := min(throttleBackoffMin<<min(it.throttles, 10), throttleBackoffMax)
		it.throttles++ // before the item is back where another worker may take it
		if s.asyncRequeue(ctx, it, ev, pol, rec.FirstEnqueued, delay, err) {
			log.Debug("async invocation throttled; back to the queue", "delay", delay)
		}
		return
	}
	it.throttles = 0
	if err != nil {
		// The engine's errors are never the function's: those come back as
		// a result with a FunctionError (engine.Invoke's launchFailure).
		delay := min(systemBackoffMin<<min(it.sysErrs, 10), systemBackoffMax)
		it.sysErrs++
		if s.asyncRequeue(ctx, it, ev, pol, rec.FirstEnqueued, delay, err) {
			log.Warn("async invocation not run (system error); back to the queue", "delay", delay, "error", err)
		}
		return
	}
	it.sysErrs = 0
	if err == nil && res.FunctionError == "" {
		s.deliverOutcome(ctx, ev, pol.onSuccess, "Success", res, nil)
		s.asyncDone(ctx, it)
		return
	}
	log.Info("async invocation returned a function error", "payload", string(res.Payload))
	if rec.Attempt >= pol.retries {
		log.Warn("async event dropped after its retries")
		s.deliverOutcome(ctx, ev, pol.onFailure, "RetriesExhausted", res, err)
		s.asyncDone(ctx, it)
		return
	}
	delay := s.asyncRetryDelay() * time.Duration(rec.Attempt+1)
	if time.Since(rec.FirstEnqueued)+delay > pol.maxAge {
		log.Warn("async event dropped: older than its maximum age")
		s.deliverOutcome(ctx, ev, pol.onFailure, "EventAgeExceeded", res, err)
		s.asyncDone(ctx, it)
		return
	}
	rec.Attempt++
	rec.NextRun = time.Now().Add(delay)
	if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.Put(bucketAsyncEvents, it.key, &rec) }); err != nil {
		// The stored record still says the earlier attempt: after a
		// restart the event runs again with one retry fewer done.
		log.Error("async retry not stored", "error", err)
	}
	it.next = rec.NextRun
	s.asyncReady(it)
}

// asyncRequeue puts an attempt that did not run (throttled, a system error)
// back in the queue after delay, using no retry; an event that would then be
// older than its maximum age goes to the failure destination instead. It
// says whether the event was put back.
func (s *Server) asyncRequeue(ctx context.Context, it *asyncItem, ev *asyncEvent, pol asyncPolicy, first time.Time, delay time.Duration, err error) bool {
	if time.Since(first)+delay > pol.maxAge {
		s.log.Warn("async event dropped: not run until its maximum age", "function", ev.fn.ARN, "request_id", ev.req.RequestID, "error", err)
		s.deliverOutcome(ctx, ev, pol.onFailure, "EventAgeExceeded", nil, err)
		s.asyncDone(ctx, it)
		return false
	}
	it.next = time.Now().Add(delay)
	s.asyncReady(it)
	return true
}

// asyncDone deletes a finished event's record and releases its share of the
// bound. A record that cannot be deleted stays counted, and runs again after
// a restart.
func (s *Server) asyncDone(ctx context.Context, it *asyncItem) {
	if err := s.store.Update(ctx, func(tx store.Tx) error { return tx.Delete(bucketAsyncEvents, it.key) }); err != nil {
		s.log.Error("async event not deleted; it runs again after a restart", "key", it.key, "error", err)
		return
	}
	s.asyncForget(it)
}

func (s *Server) asyncRetryDelay() time.Duration {
	if s.cfg.AsyncRetryDelay > 0 {
		return s.cfg.AsyncRetryDelay
	}
	return time.Minute
}

// asyncQueueLen reports the events queued (stored and not finished).
func (s *Server) asyncQueueLen() (int, int64) {
	s.async.mu.Lock()
	defer s.async.mu.Unlock()
	return s.async.count, s.async.bytes
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
	requestID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	if err := s.enqueueAsync(r.Context(), info, &engine.Request{RequestID: requestID, Payload: payload, InvokedARN: info.FunctionArn, TraceID: traceID()}); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"Status": http.StatusAccepted})
	return nil
}
