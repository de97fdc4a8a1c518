package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const base = "/2018-06-01/runtime"

// fixture is one Server behind a real loopback HTTP server.
type fixture struct {
	t   *testing.T
	s   *Server
	srv *httptest.Server
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := NewServer(opts)
	srv := httptest.NewServer(s.Handler())
	f := &fixture{t: t, s: s, srv: srv}
	t.Cleanup(func() {
		_ = s.Close()
		srv.Close()
	})
	return f
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// errType returns the errorType of a JSON error body.
func (r reply) errType() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.ErrorType
}

// do sends one request and returns the reply; it fails the test on a transport error.
func (f *fixture) do(method, path string, hdr map[string]string, body string) reply {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := f.request(ctx, method, path, hdr, strings.NewReader(body))
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (f *fixture) request(ctx context.Context, method, path string, hdr map[string]string, body io.Reader) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, f.srv.URL+path, body)
	if err != nil {
		return reply{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// toIdle makes the runtime's first /next poll, then abandons it: the server is then idle.
func (f *fixture) toIdle() {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.request(ctx, http.MethodGet, base+"/invocation/next", nil, nil)
	}()
	select {
	case <-f.s.Ready():
	case <-time.After(10 * time.Second):
		f.t.Fatal("Ready not closed after /next")
	}
	cancel()
	<-done
}

type invokeResult struct {
	resp *Response
	body []byte // Body read to its end (buffered or streamed)
	err  error
}

// startInvoke runs Invoke in a goroutine that ends when Invoke returns and the body is read.
// The returned channel yields exactly one result.
func (f *fixture) startInvoke(ctx context.Context, inv *Invocation) <-chan invokeResult {
	ch := make(chan invokeResult, 1)
	go func() {
		resp, err := f.s.Invoke(ctx, inv)
		res := invokeResult{resp: resp, err: err}
		if err == nil {
			res.body, res.err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		ch <- res
	}()
	return ch
}

func waitResult(t *testing.T, ch <-chan invokeResult) invokeResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(15 * time.Second):
		t.Fatal("Invoke did not return")
		return invokeResult{}
	}
}

// pipeRequest starts a POST whose body the test writes piece by piece. The returned channel
// yields the reply once the server answered.
func (f *fixture) pipeRequest(ctx context.Context, path string, hdr map[string]string, trailer http.Header) (*io.PipeWriter, <-chan reply) {
	pr, pw := io.Pipe()
	ch := make(chan reply, 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+path, pr)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Trailer = trailer
	go func() {
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			pr.CloseWithError(err)
			ch <- reply{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- reply{status: resp.StatusCode, body: b}
	}()
	return pw, ch
}

func jsonEq(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("JSON = %s, want %s", gb, wb)
	}
}
