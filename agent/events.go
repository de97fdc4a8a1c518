package agent

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/lambhq/lamb/agent/agentapi"
)

// maxQueuedLogs bounds log events kept while no host reads the stream; the
// oldest are dropped first. Ready, init error and exit events are never
// dropped. Tunnel events beyond agentapi.MaxTunnels are dropped oldest first
// too: no more connections than that wait for a tunnel, so the oldest ones'
// connections are gone already.
const maxQueuedLogs = 8192

// eventQueue holds events until the host's /v1/events stream takes them. One
// stream reads at a time; a new one takes over from the previous.
type eventQueue struct {
	mu       sync.Mutex
	q        []agentapi.Event
	logs     int
	tunnels  int
	changed  chan struct{} // closed and replaced on every push
	exitSent bool
	sent     chan struct{} // closed once the exit event was written to a stream
	reader   chan struct{} // closed to end the current stream when another takes over
	streams  int           // streams being served now
	attached chan struct{} // closed and replaced whenever streams changes
}

func newEventQueue() *eventQueue {
	return &eventQueue{changed: make(chan struct{}), sent: make(chan struct{}), attached: make(chan struct{})}
}

func (e *eventQueue) push(ev agentapi.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Type {
	case agentapi.EventLog:
		if e.logs >= maxQueuedLogs {
			e.dropOldest(agentapi.EventLog)
		}
		e.logs++
	case agentapi.EventTunnel:
		if e.tunnels >= agentapi.MaxTunnels {
			e.dropOldest(agentapi.EventTunnel)
		}
		e.tunnels++
	}
	e.q = append(e.q, ev)
	close(e.changed)
	e.changed = make(chan struct{})
}

// dropOldest removes the oldest queued event of type typ; e.mu is held.
func (e *eventQueue) dropOldest(typ string) {
	for i, old := range e.q {
		if old.Type == typ {
			e.q = append(e.q[:i], e.q[i+1:]...)
			if typ == agentapi.EventLog {
				e.logs--
			} else {
				e.tunnels--
			}
			return
		}
	}
}

// attach counts a stream starting (+1) or ending (-1); e.mu is held.
func (e *eventQueue) attach(d int) {
	e.streams += d
	close(e.attached)
	e.attached = make(chan struct{})
}

// hosts says how many streams are being served now, and returns a channel
// closed when that changes.
func (e *eventQueue) hosts() (int, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.streams, e.attached
}

// drained is closed once the exit event reached a stream.
func (e *eventQueue) drained() <-chan struct{} { return e.sent }

// take removes and returns the queued events, or a channel to wait on.
func (e *eventQueue) take() ([]agentapi.Event, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.q
	e.q, e.logs, e.tunnels = nil, 0, 0
	return q, e.changed
}

// serve streams events to one host connection until the exit event was sent,
// the host went away or another stream took over.
func (e *eventQueue) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	if e.reader != nil {
		close(e.reader)
	}
	mine := make(chan struct{})
	e.reader = mine
	e.attach(1)
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.attach(-1)
		e.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		evs, wait := e.take()
		for i, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				e.requeue(evs[i:])
				return
			}
		}
		if len(evs) > 0 && fl != nil {
			fl.Flush()
		}
		for _, ev := range evs {
			if ev.Type == agentapi.EventExit {
				e.mu.Lock()
				if !e.exitSent {
					e.exitSent = true
					close(e.sent)
				}
				e.mu.Unlock()
				return
			}
		}
		select {
		case <-wait:
		case <-mine:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// requeue puts back events a broken stream could not write, ahead of newer ones.
func (e *eventQueue) requeue(evs []agentapi.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		switch ev.Type {
		case agentapi.EventLog:
			e.logs++
		case agentapi.EventTunnel:
			e.tunnels++
		}
	}
	e.q = append(append([]agentapi.Event(nil), evs...), e.q...)
}
