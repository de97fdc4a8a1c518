package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/lambhq/lamb/engine"
)

// streamInvoker is the optional part of an Invoker that streams responses
// (*engine.Engine has it). Without it a response arrives as one chunk.
type streamInvoker interface {
	InvokeStream(ctx context.Context, fn *engine.Function, req *engine.Request) (*engine.Stream, error)
}

// responseStream is an invocation's response read as the function writes it.
// Read returns io.EOF at the end, also when the function failed; Result is
// valid after that (or after Close). Close before the end aborts the call.
type responseStream interface {
	io.ReadCloser
	Result() *engine.Result
	MediaType() string
}

type engineStream struct{ *engine.Stream }

func (s engineStream) MediaType() string { return s.ContentType }

// bufferedStream replays a finished buffered invocation as a stream.
type bufferedStream struct {
	*bytes.Reader
	res *engine.Result
}

func (b *bufferedStream) Close() error               { return nil }
func (b *bufferedStream) Result() *engine.Result     { return b.res }
func (b *bufferedStream) MediaType() string          { return "application/json" }
func (b *bufferedStream) Read(p []byte) (int, error) { return b.Reader.Read(p) }

// openStream starts an invocation whose response is streamed. The payload of a
// failed invocation is never part of the stream: it is in Result.
func (s *Server) openStream(ctx context.Context, fn *engine.Function, req *engine.Request) (responseStream, error) {
	if si, ok := s.cfg.Engine.(streamInvoker); ok {
		st, err := si.InvokeStream(ctx, fn, req)
		if err != nil {
			return nil, err
		}
		return engineStream{st}, nil
	}
	res, err := s.cfg.Engine.Invoke(ctx, fn, req)
	if err != nil {
		return nil, err
	}
	var body []byte
	if res.FunctionError == "" {
		body = res.Payload
	}
	return &bufferedStream{Reader: bytes.NewReader(body), res: res}, nil
}

// invokeWithResponseStream serves InvokeWithResponseStream: the function's
// response as PayloadChunk events, each flushed as soon as the runtime sent
// it, then one InvokeComplete event. The HTTP status is 200 once the stream
// began; a function error (also mid-stream) is reported in InvokeComplete.
func (s *Server) invokeWithResponseStream(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.cfg.Engine == nil {
		return newError("ServiceException", "lamb: this server runs no engine")
	}
	invType, logType, err := invokeHeaders(r, "RequestResponse", "DryRun")
	if err != nil {
		return err
	}
	_, efn, req, err := s.newEngineRequest(w, r, c, maxSyncPayload)
	if err != nil {
		return err
	}
	if invType == "DryRun" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	st, err := s.openStream(r.Context(), efn, req)
	if err != nil {
		return s.invokeError(r.Context(), err)
	}
	defer st.Close()

	h := w.Header()
	h.Set("Content-Type", eventStreamContentType)
	h.Set("X-Amz-Executed-Version", efn.Version)
	w.WriteHeader(http.StatusOK)
	ew := newEventWriter(w)
	if err := ew.rc.Flush(); err != nil {
		return nil // the client is gone; Close aborts the invocation
	}
	buf := make([]byte, 64<<10)
	for {
		n, rerr := st.Read(buf)
		if n > 0 {
			if err := ew.chunk(buf[:n]); err != nil {
				s.log.DebugContext(r.Context(), "stream client went away", "request", req.RequestID, "error", err)
				return nil
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			// lamb itself failed mid-stream: end the stream as AWS ends one
			// it cannot finish, with an error in InvokeComplete.
			s.log.ErrorContext(r.Context(), "stream failed", "request", req.RequestID, "error", rerr)
			_ = ew.complete(invokeComplete{ErrorCode: "ServiceException", ErrorDetails: "lamb: " + rerr.Error()})
			return nil
		}
	}
	res := st.Result()
	var done invokeComplete
	if res != nil {
		if res.FunctionError != "" {
			done.ErrorCode, done.ErrorDetails = streamError(res.Payload)
		}
		if logType == "Tail" {
			done.LogResult = base64.StdEncoding.EncodeToString(logTail(res.Log))
		}
	}
	_ = ew.complete(done)
	return nil
}

// streamError splits a function's error document into InvokeComplete's
// ErrorCode (its errorType, e.g. "Error", "Sandbox.Timedout",
// "Function.ResponseSizeTooLarge") and ErrorDetails (its errorMessage).
func streamError(doc []byte) (code, details string) {
	var e struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(doc, &e) != nil || e.Type == "" {
		return "Unhandled", string(doc)
	}
	return e.Type, e.Message
}

// decodeClientContext checks X-Amz-Client-Context (base64 JSON) and returns the JSON.
func decodeClientContext(cc string) (string, error) {
	if cc == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(cc)
	if err != nil || !json.Valid(raw) {
		return "", newError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.")
	}
	return string(raw), nil
}
