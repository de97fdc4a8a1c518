package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// Request limits: what one request may cost lamb, so that no client (or page,
// or neighbour) can exhaust its memory or hold its connections.

const (
	// maxRequestBytes is AWS's limit on a CreateFunction/UpdateFunctionCode
	// request (a 50 MB zip, base64-encoded in JSON).
	maxRequestBytes = 70167211
	// maxSmallRequestBytes bounds every operation that carries no code or
	// payload: their largest members (environment, policies, tags) are a
	// few KB on AWS.
	maxSmallRequestBytes = 1 << 20
	// largeUpload is the size over which a code-carrying request takes an
	// upload slot.
	largeUpload = 1 << 20

	// DefaultMaxConcurrentUploads is how many large uploads are read and
	// decoded at once: each holds its body and the decoded zip in memory.
	DefaultMaxConcurrentUploads = 2

	// bodyReadTimeout is how long a request body may take to arrive; a
	// client that stalls mid-body is cut off.
	bodyReadTimeout = 5 * time.Minute
)

// bodyLimit is the largest request body op accepts, as AWS's limits.
func bodyLimit(op string) int64 {
	switch op {
	case "CreateFunction", "UpdateFunctionCode", "PublishLayerVersion":
		return maxRequestBytes
	case "Invoke", "InvokeWithResponseStream":
		// The handlers answer AWS's own errors for payloads over 6 MB
		// (RequestResponse) or 1 MB (Event); this only stops a runaway body.
		return maxSyncPayload + 1<<20
	case "InvokeAsync":
		return maxAsyncPayload + 1<<20
	}
	return maxSmallRequestBytes
}

// takesUploadSlot reports whether r must wait for an upload slot.
func takesUploadSlot(op string, r *http.Request) bool {
	return bodyLimit(op) == maxRequestBytes && (r.ContentLength < 0 || r.ContentLength > largeUpload)
}

// acquireUpload waits for an upload slot; release gives it back.
func (s *Server) acquireUpload(ctx context.Context) (release func(), err error) {
	select {
	case s.uploads <- struct{}{}:
		return func() { <-s.uploads }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// limitBody bounds r's body to op's limit and gives it bodyReadTimeout to
// arrive. The read deadline is lifted once the body is read, so that a long
// invocation after it is not cut off by it.
func limitBody(w http.ResponseWriter, r *http.Request, op string) {
	r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(op))
	if r.ContentLength == 0 {
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)); err != nil {
		return // not a deadline-capable connection (tests' recorders)
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
}

type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// errTooLarge is AWS's answer for a body over the operation's limit.
func errTooLarge(op string) *awsError {
	switch op {
	case "Invoke", "InvokeWithResponseStream", "InvokeAsync":
		return newError("RequestTooLargeException", "Request must be smaller than %d bytes for the InvokeFunction operation", bodyLimit(op)-1<<20)
	}
	return newError("RequestEntityTooLargeException", "Request must be smaller than %d bytes for the %s operation", bodyLimit(op), op)
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
