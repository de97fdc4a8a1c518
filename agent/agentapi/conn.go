package agentapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Invocations go over connections the client keeps itself, written and
// read on the caller's goroutine: net/http's Transport hands every request
// to a writer goroutine and every response back from a reader goroutine,
// two wake-ups per call on the warm path. The agent is net/http's server
// all the same, so this is plain HTTP/1.1.

// conn is one kept connection to the agent.
type conn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// conns is the client's pool of idle invoke connections.
type conns struct {
	addr string
	d    net.Dialer

	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// maxIdle bounds the pool: an instance takes one invocation at a time.
const maxIdle = 2

// get returns an idle connection or dials one. A dial error wraps dialError.
func (p *conns) get(ctx context.Context) (*conn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	nc, err := p.d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, &dialError{err: err}
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 16<<10)}, nil
}

// put keeps c for the next call (its response fully read).
func (p *conns) put(c *conn) {
	p.mu.Lock()
	if !p.closed && len(p.idle) < maxIdle {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	c.nc.Close()
}

// closeIdle closes the idle connections; with final, later ones are not kept.
func (p *conns) closeIdle(final bool) {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = p.closed || final
	p.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// roundTrip sends req on a kept connection and returns the response with
// its headers read; its body releases the connection once read to the end
// (or closes it on failure or an early Close). ctx's end breaks the
// connection, failing any read or write in progress.
func (p *conns) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	c, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) error {
		stop()
		c.nc.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if err := req.Write(c.bw); err != nil {
		return nil, fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return nil, fail(err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return nil, fail(err)
	}
	resp.Body = &connBody{rc: resp.Body, p: p, c: c, stop: stop, ctx: ctx, keep: !resp.Close}
	return resp, nil
}

// connBody hands its connection back once the body was read to the end.
type connBody struct {
	rc   io.ReadCloser
	p    *conns
	c    *conn
	stop func() bool
	ctx  context.Context
	keep bool

	once sync.Once
	eof  bool
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
		b.release()
	case err != nil:
		if b.ctx.Err() != nil && errors.Is(err, net.ErrClosed) || isTimeout(err) {
			err = b.ctx.Err()
		}
		b.release()
	}
	return n, err
}

func (b *connBody) Close() error {
	b.release()
	return nil
}

// release returns the connection to the pool when its response ended
// cleanly and ctx did not break it; otherwise it closes it.
func (b *connBody) release() {
	b.once.Do(func() {
		stopped := b.stop()
		if b.eof && b.keep && stopped && b.ctx.Err() == nil {
			b.p.put(b.c)
			return
		}
		b.c.nc.Close()
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
