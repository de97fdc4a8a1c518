package runtimeapi

import (
	"net/http"
	"strconv"
	"time"
)

// maxFunctionTimeout stands in for a missing deadline: Lambda's longest timeout.
const maxFunctionTimeout = 15 * time.Minute

type invocationNextHandler struct{ s *Server }

// newInvocationNextHandler serves GET /runtime/invocation/next: a long-poll that ends with the
// next invocation, or without one when the client leaves or the server closes.
func newInvocationNextHandler(s *Server) http.Handler { return &invocationNextHandler{s: s} }

func (h *invocationNextHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if r.Method != http.MethodGet {
		// The mux lets HEAD through GET routes; a HEAD must not take an invocation.
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	first := s.m.cur == stateInit
	if err := s.m.fire(eventNext); err != nil {
		s.mu.Unlock()
		s.forbid(w, r, err)
		return
	}
	s.mu.Unlock()
	if first {
		s.readyOnce.Do(func() { close(s.ready) })
	}

	select {
	case c := <-s.calls:
		if r.Context().Err() != nil {
			c.taken <- false // the runtime left; Invoke offers it again
			return
		}
		s.mu.Lock()
		if err := s.m.fire(eventDeliver); err != nil {
			s.mu.Unlock()
			c.taken <- false
			s.forbid(w, r, err)
			return
		}
		s.current = c
		s.mu.Unlock()
		c.taken <- true
		writeInvocation(w, c.inv)
	case <-r.Context().Done():
	case <-s.done:
		s.forbid(w, r, ErrClosed)
	}
}

func writeInvocation(w http.ResponseWriter, inv *Invocation) {
	deadline := inv.Deadline
	if deadline.IsZero() {
		deadline = time.Now().Add(maxFunctionTimeout)
	}
	hdr := w.Header()
	hdr.Set(headerRequestID, inv.RequestID)
	hdr.Set(headerDeadlineMs, strconv.FormatInt(deadline.UnixMilli(), 10))
	hdr.Set(headerFunctionARN, inv.InvokedFunctionARN)
	setIfNotEmpty(hdr, headerTraceID, inv.TraceID)
	setIfNotEmpty(hdr, headerClientContext, inv.ClientContext)
	setIfNotEmpty(hdr, headerCognitoIdentity, inv.CognitoIdentity)
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(inv.Payload)))
	w.WriteHeader(http.StatusOK)
	// A failed write means the runtime went away after delivery; it cannot be undone.
	_, _ = w.Write(inv.Payload)
}

func setIfNotEmpty(h http.Header, key, value string) {
	if value != "" {
		h.Set(key, value)
	}
}
