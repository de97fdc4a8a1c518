package agenthost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/lambhq/lamb/engine/backend"
)

// Begin starts one invocation on the instance id whose runtime is gone once
// exited ends. It fails with backend.ErrNotDelivered when it is gone already;
// otherwise it returns a context that ends with ctx or with the exit (so
// that a runtime dying without answering ends the wait), and the func that
// releases it, to call once the answer is done.
func Begin(ctx context.Context, id string, exited context.Context) (context.Context, func(), error) {
	if exited.Err() != nil {
		return nil, nil, fmt.Errorf("instance %s exited: %w", id, backend.ErrNotDelivered)
	}
	ictx, cancel := context.WithCancel(ctx)
	unwatch := context.AfterFunc(exited, cancel)
	return ictx, func() { unwatch(); cancel() }, nil
}

// Trailer adapts a runtime answer's error trailer (type "" when none) to
// backend.Response.Trailer.
func Trailer(trailer func() (errType string, errBody []byte)) func() *backend.FunctionError {
	return func() *backend.FunctionError {
		if typ, body := trailer(); typ != "" {
			return &backend.FunctionError{Type: typ, Body: body}
		}
		return nil
	}
}

// NewBody wraps an answer's body for backend.Response.Body: release runs once,
// when reading ends (EOF or a failure) or at Close, and a read failure other
// than EOF goes through exitFor, which returns the instance's ExitError when
// the failure was the runtime exiting (nil otherwise: the failure stands).
func NewBody(rc io.ReadCloser, release func(), exitFor func(err error) error) io.ReadCloser {
	return &body{rc: rc, release: release, exitFor: exitFor}
}

type body struct {
	rc      io.ReadCloser
	release func()
	exitFor func(error) error
	once    sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == nil {
		return n, nil
	}
	b.once.Do(b.release)
	if !errors.Is(err, io.EOF) {
		if xe := b.exitFor(err); xe != nil {
			return n, xe
		}
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.once.Do(b.release)
	return err
}
