package runtimeapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

type invocationErrorHandler struct{ s *Server }

// newInvocationErrorHandler serves POST /runtime/invocation/{id}/error: the function failed.
func newInvocationErrorHandler(s *Server) http.Handler { return &invocationErrorHandler{s: s} }

func (h *invocationErrorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	id := r.PathValue("id")

	s.mu.Lock()
	c, err := s.answering(eventError, id)
	if err != nil {
		s.mu.Unlock()
		s.refuse(w, r, err)
		return
	}
	s.mu.Unlock()

	// Read before the transition, so that a refused body leaves the invocation open.
	body, err := readAtMost(r.Body, s.maxBuffered)
	if errors.Is(err, errTooLarge) {
		renderTooLarge(w, s.maxBuffered)
		return
	}
	if err != nil {
		s.log.Debug("runtimeapi: reading error body", "request_id", id, "err", err)
		return // the runtime is gone; the invocation stays open until the sandbox is reset
	}

	s.mu.Lock()
	// The state may have moved while the body was read (a concurrent /response, Close).
	if err := s.m.fire(eventError); err != nil || s.current != c {
		s.mu.Unlock()
		if err == nil {
			err = ErrNotAllowed
		}
		s.forbid(w, r, err)
		return
	}
	s.current = nil
	s.mu.Unlock()

	errType := r.Header.Get(headerErrorType)
	if errType == "" {
		errType = defaultErrorType
	}
	s.deliver(c, callResult{resp: &Response{
		ErrorType:   errType,
		ContentType: r.Header.Get("Content-Type"),
		Body:        io.NopCloser(bytes.NewReader(body)),
		Trailer:     noTrailer,
	}})
	renderAccepted(w)
}

func noTrailer() (string, []byte) { return "", nil }
