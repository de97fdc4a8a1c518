package runtimeapi

import (
	"errors"
	"net/http"
)

type initErrorHandler struct{ s *Server }

// newInitErrorHandler serves POST /runtime/init/error, legal only before the first /next.
func newInitErrorHandler(s *Server) http.Handler { return &initErrorHandler{s: s} }

func (h *initErrorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	s.mu.Lock()
	err := s.m.check(eventInitError)
	s.mu.Unlock()
	if err != nil {
		s.forbid(w, r, err)
		return
	}

	body, err := readAtMost(r.Body, s.maxBuffered)
	if errors.Is(err, errTooLarge) {
		renderTooLarge(w, s.maxBuffered)
		return
	}
	if err != nil {
		s.log.Debug("runtimeapi: reading init error body", "err", err)
		return
	}

	s.mu.Lock()
	err = s.m.fire(eventInitError)
	s.mu.Unlock()
	if err != nil {
		s.forbid(w, r, err)
		return
	}
	errType := r.Header.Get(headerErrorType)
	if errType == "" {
		errType = defaultErrorType
	}
	// Only one init error can pass the transition, so the buffered send never blocks.
	s.initErr <- &InitError{Type: errType, Body: body}
	renderAccepted(w)
}
