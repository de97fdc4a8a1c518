package agentapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tunnelProtocol is the Upgrade token of POST /v1/tunnel.
const tunnelProtocol = "lamb-tunnel"

// tunnelWait bounds how long a function's connection waits for its tunnel
// (the host is slow or gone: the function's SDK sees the connection close and
// retries, as it would after a reset).
const tunnelWait = 10 * time.Second

// ErrListenerClosed is returned by Listener.Deliver once the Listener is closed.
var ErrListenerClosed = errors.New("agentapi: tunnel listener closed")

// Endpoint is the agent's end of the tunnels to lamb's API. It accepts the
// connections functions open to EndpointAddr, announces each with notify
// (which pushes a tunnel event to the host), and splices each with the
// tunnel the host then opens to ServeTunnel. A connection whose tunnel does
// not come within 10 seconds, or beyond MaxTunnels open at once, is closed.
type Endpoint struct {
	ln     net.Listener
	notify func(id uint64)
	log    *slog.Logger
	wait   time.Duration

	wg sync.WaitGroup // splices

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*pending // waiting for their tunnel
	conns   map[net.Conn]bool   // every open connection, either side, for Close
	open    int                 // function connections not yet finished
	closed  bool
}

type pending struct {
	c     net.Conn
	timer *time.Timer
}

// NewEndpoint returns the Endpoint serving ln. notify must not block. It
// starts no goroutines: the caller runs Serve.
func NewEndpoint(ln net.Listener, notify func(id uint64), log *slog.Logger) *Endpoint {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Endpoint{ln: ln, notify: notify, log: log, wait: tunnelWait,
		pending: map[uint64]*pending{}, conns: map[net.Conn]bool{}}
}

// Serve accepts function connections until Close.
func (e *Endpoint) Serve() error {
	backoff := 5 * time.Millisecond
	for {
		c, err := e.ln.Accept()
		if err != nil {
			e.mu.Lock()
			closed := e.closed
			e.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of descriptors, say: what http.Server does.
			e.log.Warn("agent: endpoint accept", "err", err)
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		e.admit(c)
	}
}

func (e *Endpoint) admit(c net.Conn) {
	e.mu.Lock()
	if e.closed || e.open >= MaxTunnels {
		e.mu.Unlock()
		c.Close()
		return
	}
	e.nextID++
	id := e.nextID
	e.open++
	e.conns[c] = true
	e.pending[id] = &pending{c: c, timer: time.AfterFunc(e.wait, func() { e.expire(id) })}
	e.mu.Unlock()
	e.notify(id)
}

// expire closes a connection whose tunnel never came.
func (e *Endpoint) expire(id uint64) {
	e.mu.Lock()
	p := e.pending[id]
	if p != nil {
		delete(e.pending, id)
		e.forget(p.c)
	}
	e.mu.Unlock()
	if p != nil {
		e.log.Warn("agent: no tunnel to lamb came for a connection to its API", "tunnel", id)
		p.c.Close()
	}
}

// forget drops a finished function connection; e.mu is held.
func (e *Endpoint) forget(c net.Conn) {
	delete(e.conns, c)
	e.open--
}

// ServeTunnel is the handler of POST /v1/tunnel: it takes over the host's
// connection (101 Switching Protocols) and splices it with the function
// connection the X-Lamb-Tunnel header names.
func (e *Endpoint) ServeTunnel(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), tunnelProtocol) {
		http.Error(w, "want Upgrade: "+tunnelProtocol, http.StatusBadRequest)
		return
	}
	id, err := strconv.ParseUint(r.Header.Get(HeaderTunnel), 10, 64)
	if err != nil {
		http.Error(w, "bad "+HeaderTunnel, http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	p := e.pending[id]
	delete(e.pending, id)
	e.mu.Unlock()
	if p == nil {
		// Expired, or the function hung up and Close ran: the host closes.
		http.Error(w, "no connection waits for this tunnel", http.StatusNotFound)
		return
	}
	p.timer.Stop()
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		e.drop(p.c)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The server's header deadline would cut the tunnel short.
	_ = nc.SetDeadline(time.Time{})
	_, err = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + tunnelProtocol + "\r\n\r\n")
	if err == nil {
		err = brw.Flush()
	}
	if err != nil {
		nc.Close()
		e.drop(p.c)
		return
	}
	tc := &bufConn{Conn: nc, r: brw.Reader}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		tc.Close()
		return // Close closed p.c
	}
	e.conns[tc] = true
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		splice(p.c, tc)
		e.mu.Lock()
		delete(e.conns, tc)
		e.forget(p.c)
		e.mu.Unlock()
	}()
}

// drop closes a function connection that gets no tunnel.
func (e *Endpoint) drop(c net.Conn) {
	e.mu.Lock()
	if e.conns[c] {
		e.forget(c)
	}
	e.mu.Unlock()
	c.Close()
}

// Close stops accepting, closes every connection (pending, tunnelled and
// tunnels: the sandbox is ending) and waits for the splices to end.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	for _, p := range e.pending {
		p.timer.Stop()
	}
	e.pending = nil
	var conns []net.Conn
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	err := e.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	e.wg.Wait()
	return err
}

// splice copies a to b and b to a until both directions ended, passing an
// end of stream on as a half-close, then closes both. A broken direction
// ends both.
func splice(a, b net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		pipe(b, a)
	}()
	pipe(a, b)
	<-done
	a.Close()
	b.Close()
}

// pipe copies src to dst, then half-closes dst; on an error it closes both,
// which ends the other direction too.
func pipe(dst, src net.Conn) {
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		src.Close()
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	dst.Close()
}

// bufConn is a connection whose first bytes were read into r already (with
// the HTTP exchange that opened the tunnel).
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) {
	if c.r.Buffered() > 0 {
		return c.r.Read(p)
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection when it can (TCP).
func (c *bufConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Tunnel opens the tunnel the agent asked for with the tunnel event id: a
// connection on which the function's bytes arrive as written to
// EndpointAddr, for lamb's API server to serve (see Listener). ctx bounds
// opening it, not the tunnel's life.
func (c *Client) Tunnel(ctx context.Context, id uint64) (net.Conn, error) {
	nc, err := c.invokes.d.DialContext(ctx, "tcp", c.invokes.addr)
	if err != nil {
		return nil, fmt.Errorf("agent tunnel: %w", &dialError{err: err})
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (net.Conn, error) {
		stop()
		nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("agent tunnel: %w", ctx.Err())
		}
		return nil, fmt.Errorf("agent tunnel: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+PathTunnel, nil)
	if err != nil {
		return fail(err)
	}
	setSecret(req.Header, c.secret)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", tunnelProtocol)
	req.Header.Set(HeaderTunnel, strconv.FormatUint(id, 10))
	if err := req.Write(nc); err != nil {
		return fail(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail(fmt.Errorf("status %s", resp.Status))
	}
	if !stop() {
		return fail(ctx.Err()) // the deadline is set: the connection is spoilt
	}
	return &bufConn{Conn: nc, r: br}, nil
}

// Listener is the host's end of the tunnels: a net.Listener whose Accept
// returns the tunnels handed to Deliver, so that lamb's API http.Server
// serves functions on connections that never touched the network the
// sandbox is on. It is safe for concurrent use.
type Listener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

var _ net.Listener = (*Listener)(nil)

// NewListener returns a Listener that reports addr as its address (lamb's
// own; nil: a placeholder).
func NewListener(addr net.Addr) *Listener {
	if addr == nil {
		addr = tunnelAddr{}
	}
	return &Listener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// Deliver hands c to Accept, waiting until Accept takes it, ctx ends or the
// Listener is closed; it then closes c and returns why.
func (l *Listener) Deliver(ctx context.Context, c net.Conn) error {
	select {
	case <-l.done:
		c.Close()
		return ErrListenerClosed
	default:
	}
	select {
	case l.conns <- c:
		return nil
	case <-l.done:
		c.Close()
		return ErrListenerClosed
	case <-ctx.Done():
		c.Close()
		return ctx.Err()
	}
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener: Accept and Deliver fail from now on.
// Tunnels delivered already belong to their server.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return l.addr }

type tunnelAddr struct{}

func (tunnelAddr) Network() string { return "tunnel" }
func (tunnelAddr) String() string  { return "tunnel" }
