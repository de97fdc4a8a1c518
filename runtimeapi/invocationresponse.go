package runtimeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// errTooLarge is returned by readAtMost for a body over its limit.
var errTooLarge = errors.New("body too large")

type invocationResponseHandler struct{ s *Server }

// newInvocationResponseHandler serves POST /runtime/invocation/{id}/response, buffered or
// streamed.
func newInvocationResponseHandler(s *Server) http.Handler {
	return &invocationResponseHandler{s: s}
}

func (h *invocationResponseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	id := r.PathValue("id")
	mode := r.Header.Get(headerResponseMode)
	if mode != "" && mode != responseModeStreaming {
		renderInvalidResponseMode(w)
		return
	}

	s.mu.Lock()
	c, err := s.answering(eventResponse, id)
	if err != nil {
		s.mu.Unlock()
		s.refuse(w, r, err)
		return
	}
	_ = s.m.fire(eventResponse) // checked above under the same lock
	if mode != responseModeStreaming && !c.inv.StreamResponse {
		s.mu.Unlock()
		h.buffered(w, r, c)
		return
	}
	pr, pw := io.Pipe()
	s.stream = pw
	s.mu.Unlock()
	h.streamed(w, r, c, pr, pw)
}

func (h *invocationResponseHandler) buffered(w http.ResponseWriter, r *http.Request, c *call) {
	s := h.s
	body, err := readAtMost(r.Body, s.maxBuffered)
	switch {
	case errors.Is(err, errTooLarge):
		s.finishResponse()
		s.deliver(c, callResult{resp: &Response{
			ErrorType:   ErrorTypeResponseSizeTooLarge,
			ContentType: "application/json",
			Body:        io.NopCloser(bytes.NewReader(responseTooLargeBody(s.maxBuffered))),
			Trailer:     noTrailer,
		}})
		renderTooLarge(w, s.maxBuffered)
		return
	case err != nil:
		s.finishResponse()
		s.deliver(c, callResult{err: fmt.Errorf("%w: %w", ErrResponseTruncated, err)})
		return // the runtime is gone; no one reads a status
	}
	resp := &Response{
		ContentType: r.Header.Get("Content-Type"),
		Body:        io.NopCloser(bytes.NewReader(body)),
		Trailer:     noTrailer,
	}
	// aws-lambda-go reports a failing response reader through trailers even when buffered.
	if typ, errBody := errorTrailer(r.Trailer); typ != "" {
		resp.ErrorType = typ
		resp.ContentType = "application/json"
		resp.Body = io.NopCloser(bytes.NewReader(errBody))
	}
	s.finishResponse()
	s.deliver(c, callResult{resp: resp})
	renderAccepted(w)
}

func (h *invocationResponseHandler) streamed(w http.ResponseWriter, r *http.Request, c *call, pr *io.PipeReader, pw *io.PipeWriter) {
	s := h.s
	sb := &streamBody{pr: pr, pw: pw}
	resp := &Response{
		Streaming:   true,
		ContentType: r.Header.Get("Content-Type"),
		Body:        sb,
		Trailer:     sb.trailer,
	}
	if !s.deliver(c, callResult{resp: resp}) {
		pr.Close()
		h.drain(w, r, s.maxStreamed)
		return
	}

	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			if total+int64(n) > s.maxStreamed {
				// Pass on what fits, then end the stream with the size error.
				_, _ = pw.Write(buf[:s.maxStreamed-total])
				sb.setTrailer(ErrorTypeResponseSizeTooLarge, responseTooLargeBody(s.maxStreamed))
				pw.Close()
				s.finishResponse()
				renderTooLarge(w, s.maxStreamed)
				return
			}
			total += int64(n)
			// Write returns once the reader took every byte: that is the flush-through.
			if _, werr := pw.Write(buf[:n]); werr != nil {
				// The reader left (ctx ended, Body closed) or the server closed.
				if s.isClosed() {
					s.finishResponse()
					s.forbid(w, r, ErrClosed)
					return
				}
				h.drain(w, r, s.maxStreamed-total)
				return
			}
		}
		if rerr == io.EOF {
			typ, errBody := errorTrailer(r.Trailer)
			sb.setTrailer(typ, errBody)
			pw.Close()
			s.finishResponse()
			renderAccepted(w)
			return
		}
		if rerr != nil {
			// Idle first: a runtime that reconnects right away may poll /next again.
			s.finishResponse()
			pw.CloseWithError(fmt.Errorf("%w: %w", ErrResponseTruncated, rerr))
			return
		}
	}
}

// drain reads and drops the rest of an answer nobody reads any more, so that the runtime
// finishes its invocation normally and can take the next one.
func (h *invocationResponseHandler) drain(w http.ResponseWriter, r *http.Request, limit int64) {
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, limit+1))
	h.s.finishResponse()
	switch {
	case err != nil:
		// The runtime broke off; no one reads a status.
	case n > limit:
		renderTooLarge(w, h.s.maxStreamed)
	default:
		renderAccepted(w)
	}
}

// errorTrailer reads the error trailers; the body is base64 as AWS documents, taken raw if not.
func errorTrailer(t http.Header) (string, []byte) {
	typ := t.Get(headerErrorType)
	if typ == "" {
		return "", nil
	}
	raw := t.Get(headerErrorBody)
	if b, err := base64.StdEncoding.DecodeString(raw); err == nil {
		return typ, b
	}
	return typ, []byte(raw)
}

// readAtMost reads all of r, or fails with errTooLarge once it passes limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// streamBody is Response.Body for a streamed answer.
type streamBody struct {
	pr *io.PipeReader
	pw *io.PipeWriter // closed with ctx's error, so that reads return it

	mu      sync.Mutex
	errType string
	errBody []byte
	stop    func() bool // ends the ctx watch; set by Invoke before it returns
}

// watch makes reads fail with ctx's error once ctx ends.
func (b *streamBody) watch(ctx context.Context) {
	// Closing the writer side makes a blocked or later Read return ctx's error and the
	// handler's pending Write fail; once the stream ended the first close error stays.
	stop := context.AfterFunc(ctx, func() { b.pw.CloseWithError(ctx.Err()) })
	b.mu.Lock()
	b.stop = stop
	b.mu.Unlock()
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.pr.Read(p)
	if err != nil {
		b.unwatch()
	}
	return n, err
}

func (b *streamBody) Close() error {
	b.unwatch()
	return b.pr.CloseWithError(errBodyClosed)
}

var errBodyClosed = errors.New("runtimeapi: response body closed")

func (b *streamBody) unwatch() {
	b.mu.Lock()
	stop := b.stop
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (b *streamBody) setTrailer(typ string, body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errType, b.errBody = typ, body
}

func (b *streamBody) trailer() (string, []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errType, b.errBody
}
