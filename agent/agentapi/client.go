package agentapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by Client. They are API: check them with errors.Is.
var (
	// ErrNotDelivered marks an invocation that provably never reached the runtime
	// (the agent could not be dialled, or said so).
	ErrNotDelivered = errors.New("agentapi: invocation not delivered")
	// ErrRuntimeExited means the runtime exited before or while answering.
	ErrRuntimeExited = errors.New("agentapi: runtime exited")
)

// Client talks to one agent. It is safe for concurrent use.
type Client struct {
	base    string
	secret  string       // sent on every request (RequireSecret)
	hc      *http.Client // the event stream and shutdown
	invokes *conns       // invocations (conn.go)
}

// NewClient returns a client for the agent at addr ("host:port") that was
// given secret (EnvSecret). Each Client has its own connection pool;
// CloseIdleConnections frees it.
func NewClient(addr, secret string) *Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, a)
			if err != nil {
				// Nothing was sent: the request cannot have reached the runtime.
				return nil, &dialError{err: err}
			}
			return c, nil
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{base: "http://" + addr, secret: secret, hc: &http.Client{Transport: tr},
		invokes: &conns{addr: addr, d: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}}}
}

type dialError struct{ err error }

func (e *dialError) Error() string { return "dial agent: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() {
	c.hc.CloseIdleConnections()
	c.invokes.closeIdle(false)
}

// Dial opens the event stream. It fails at once (with an error wrapping the
// dial error) if nothing listens yet; the caller decides how to retry.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathEvents, nil)
	if err != nil {
		return nil, err
	}
	setSecret(req.Header, c.secret)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent events: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("agent events: status %s", resp.Status)
	}
	return &EventStream{body: resp.Body, sc: newScanner(resp.Body)}, nil
}

// IsDialError reports whether err came from failing to connect to the agent.
func IsDialError(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return sc
}

// EventStream reads events. Next is not safe for concurrent use; Close is.
type EventStream struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

// Next returns the next event; io.EOF when the agent ended the stream.
func (s *EventStream) Next() (*Event, error) {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	var ev Event
	if err := json.Unmarshal(s.sc.Bytes(), &ev); err != nil {
		return nil, fmt.Errorf("agent event: %w", err)
	}
	return &ev, nil
}

// Close ends the stream.
func (s *EventStream) Close() error { return s.body.Close() }

// Response is the agent's answer to one invocation.
type Response struct {
	ErrorType   string // a buffered answer reported an error of this type
	Streaming   bool
	ContentType string
	// Body yields the answer as the runtime writes it. If the answer broke off,
	// reading fails (wrapping ErrRuntimeExited when the runtime exited,
	// ErrBrokenAnswer when the agent's body ended early). The caller closes it.
	Body io.ReadCloser

	mu  sync.Mutex
	end *End
}

// End returns the answer's End frame; nil until Body returned io.EOF.
func (r *Response) End() *End {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end
}

// Trailer returns the streamed answer's error trailer ("" when none). Valid
// once Body returned io.EOF.
func (r *Response) Trailer() (errType string, body []byte) {
	if e := r.End(); e != nil {
		return e.ErrorType, e.ErrorBody
	}
	return "", nil
}

// Log returns what the runtime wrote during the invocation and the sequence
// number of the last line read then (0 when unknown). Valid once Body
// returned io.EOF.
func (r *Response) Log() (log []byte, seq uint64) {
	if e := r.End(); e != nil {
		return e.Log, e.LogSeq
	}
	return nil, 0
}

// MaxMemoryUsedMB is the sandbox's peak memory (0 when unknown). Valid once
// Body returned io.EOF.
func (r *Response) MaxMemoryUsedMB() int {
	if e := r.End(); e != nil {
		return e.MaxMemoryUsedMB
	}
	return 0
}

// Invoke sends inv and returns once the runtime began its answer.
//
// Errors wrap ErrNotDelivered when the invocation provably never reached the
// runtime, ErrRuntimeExited when the runtime exited before answering, and
// ctx.Err() when ctx ended. ctx bounds reading the body too.
func (c *Client) Invoke(ctx context.Context, inv *Invocation) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+PathInvoke, bytes.NewReader(inv.Payload))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotDelivered, err)
	}
	h := req.Header
	setSecret(h, c.secret)
	h.Set(HeaderRequestID, inv.RequestID)
	if !inv.Deadline.IsZero() {
		h.Set(HeaderDeadlineMs, strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	}
	setIf(h, HeaderFunctionARN, inv.InvokedFunctionARN)
	setIf(h, HeaderTraceID, inv.TraceID)
	setIf(h, HeaderClientContext, inv.ClientContext)
	setIf(h, HeaderCognitoIdentity, inv.CognitoIdentity)
	if inv.StreamResponse {
		h.Set(HeaderStream, "1")
	}
	resp, err := c.invokes.roundTrip(ctx, req)
	if err != nil {
		if IsDialError(err) {
			return nil, fmt.Errorf("%w: %w", ErrNotDelivered, err)
		}
		return nil, fmt.Errorf("agent invoke: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		err := fmt.Errorf("agent invoke: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
		switch {
		case resp.Header.Get(HeaderNotDelivered) == "1":
			return nil, fmt.Errorf("%w: %w", ErrNotDelivered, err)
		case resp.Header.Get(HeaderRuntimeExited) == "1":
			return nil, fmt.Errorf("%w: %w", ErrRuntimeExited, err)
		}
		return nil, err
	}
	r := &Response{
		ErrorType:   resp.Header.Get(HeaderErrorType),
		Streaming:   resp.Header.Get(HeaderStreaming) == "1",
		ContentType: resp.Header.Get(HeaderAnswerType),
	}
	r.Body = &body{rc: resp.Body, fr: &frameReader{r: resp.Body}, r: r}
	return r, nil
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

// body unframes the answer and records its End frame.
type body struct {
	rc io.ReadCloser
	fr *frameReader
	r  *Response
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.fr.Read(p)
	if err == io.EOF {
		e := b.fr.end
		b.r.mu.Lock()
		b.r.end = e
		b.r.mu.Unlock()
		if e.Failure != "" {
			if e.RuntimeExited {
				return n, fmt.Errorf("%w: %s", ErrRuntimeExited, e.Failure)
			}
			return n, fmt.Errorf("%w: %s", ErrBrokenAnswer, e.Failure)
		}
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// Start starts the runtime of an agent run with --deferred, with env laid
// over the agent's own environment.
func (c *Client) Start(ctx context.Context, env []string) error {
	body, err := json.Marshal(StartRequest{Env: env})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+PathStart, bytes.NewReader(body))
	if err != nil {
		return err
	}
	setSecret(req.Header, c.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("agent start: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("agent start: status %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Shutdown asks the agent to stop the runtime and exit.
func (c *Client) Shutdown(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+PathShutdown, nil)
	if err != nil {
		return err
	}
	setSecret(req.Header, c.secret)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("agent shutdown: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("agent shutdown: status %s", resp.Status)
	}
	return nil
}
