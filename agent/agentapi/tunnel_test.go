package agentapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tunnelRig is both ends of the tunnels over real loopback TCP: the agent's
// Endpoint (where "functions" connect) and /v1/tunnel route, and the host,
// which opens a tunnel for every tunnel request and serves api on a Listener
// as lamb's API server does.
type tunnelRig struct {
	ep      *Endpoint
	addr    string // the endpoint's address, the functions' AWS_ENDPOINT_URL
	client  *Client
	ln      *Listener
	tunnels chan uint64  // tunnel requests not yet handled, when the host is off
	served  atomic.Int32 // tunnels the API server took
	hostWG  sync.WaitGroup
}

// newTunnelRig starts the rig; with host false, tunnel requests queue on
// rig.tunnels and nobody opens them.
func newTunnelRig(t *testing.T, api http.Handler, host bool) *tunnelRig {
	t.Helper()
	epLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tunnelRig{addr: epLn.Addr().String(), ln: NewListener(nil), tunnels: make(chan uint64, 2*MaxTunnels)}
	hostCtx, stopHost := context.WithCancel(context.Background())
	r.ep = NewEndpoint(epLn, func(id uint64) {
		if !host {
			r.tunnels <- id
			return
		}
		r.hostWG.Add(1)
		go func() {
			defer r.hostWG.Done()
			c, err := r.client.Tunnel(hostCtx, id)
			if err != nil {
				t.Logf("tunnel %d: %v", id, err)
				return
			}
			_ = r.ln.Deliver(hostCtx, c)
		}()
	}, nil)
	secret := NewSecret()
	agentSrv := httptest.NewServer(RequireSecret(secret, http.HandlerFunc(r.ep.ServeTunnel)))
	r.client = NewClient(strings.TrimPrefix(agentSrv.URL, "http://"), secret)
	apiSrv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				r.served.Add(1)
			}
		}}
	served := make(chan struct{}, 2)
	go func() { _ = r.ep.Serve(); served <- struct{}{} }()
	go func() { _ = apiSrv.Serve(r.ln); served <- struct{}{} }()
	t.Cleanup(func() {
		if err := r.ep.Close(); err != nil {
			t.Errorf("endpoint close: %v", err)
		}
		stopHost()
		r.hostWG.Wait()
		_ = apiSrv.Close() // closes the Listener too
		agentSrv.Close()
		<-served
		<-served
	})
	return r
}

// open reports the function connections the endpoint holds.
func (r *tunnelRig) open() int {
	r.ep.mu.Lock()
	defer r.ep.mu.Unlock()
	return r.ep.open
}

func (r *tunnelRig) waitOpen(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.open() != want {
		if time.Now().After(deadline) {
			t.Fatalf("endpoint holds %d connections, want %d", r.open(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// function is an HTTP client in the sandbox: it dials the endpoint.
func (r *tunnelRig) function(keepAlive bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", r.addr)
		},
		DisableKeepAlives: !keepAlive,
	}, Timeout: 10 * time.Second}
}

func TestTunnelRequests(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		fmt.Fprintf(w, "%s %s %s host=%s", req.Method, req.URL.Path, body, req.Host)
	})
	tests := []struct {
		name      string
		keepAlive bool
		calls     int
		parallel  bool
		body      string
		tunnels   int // distinct tunnels the API saw
	}{
		{"one call", true, 1, false, "", 1},
		{"keep-alive calls share one tunnel", true, 5, false, "x", 1},
		{"a large body", true, 1, false, strings.Repeat("0123456789", 1<<17), 1},
		{"parallel connections each get a tunnel", false, 20, true, "p", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTunnelRig(t, api, true)
			hc := r.function(tt.keepAlive)
			var wg sync.WaitGroup
			errs := make(chan error, tt.calls)
			for i := range tt.calls {
				call := func() {
					resp, err := hc.Post("http://"+EndpointAddr+"/2015-03-31/functions/", "text/plain", strings.NewReader(tt.body))
					if err != nil {
						errs <- err
						return
					}
					defer resp.Body.Close()
					got, err := io.ReadAll(resp.Body)
					if want := "POST /2015-03-31/functions/ " + tt.body + " host=" + EndpointAddr; err != nil || string(got) != want {
						errs <- fmt.Errorf("call %d: %.80q, %v; want %.80q", i, got, err, want)
					}
				}
				if tt.parallel {
					wg.Add(1)
					go func() { defer wg.Done(); call() }()
				} else {
					call()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := int(r.served.Load()); n != tt.tunnels {
				t.Errorf("the API saw %d tunnels, want %d", n, tt.tunnels)
			}
			hc.CloseIdleConnections()
			r.waitOpen(t, 0) // every connection's end reached the endpoint
		})
	}
}

// TestTunnelEnds: a hang-up on either side reaches the other.
func TestTunnelEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(r *tunnelRig, cancel context.CancelFunc)
	}{
		{"the function hangs up", func(_ *tunnelRig, cancel context.CancelFunc) { cancel() }},
		{"the sandbox ends mid-request", func(r *tunnelRig, _ context.CancelFunc) { _ = r.ep.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entered, apiGone := make(chan struct{}), make(chan struct{})
			api := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, "partial")
				w.(http.Flusher).Flush()
				close(entered)
				<-req.Context().Done() // lamb's server saw the connection go
				close(apiGone)
			})
			r := newTunnelRig(t, api, true)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+EndpointAddr+"/wait", nil)
			done := make(chan error, 1)
			go func() {
				resp, err := r.function(true).Do(req)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				done <- err
			}()
			<-entered
			tt.end(r, cancel)
			select {
			case <-apiGone:
			case <-time.After(5 * time.Second):
				t.Fatal("the API handler never saw its connection end")
			}
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("the function's call succeeded")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the function's call never ended")
			}
			r.waitOpen(t, 0)
		})
	}
}

// TestTunnelBounds: connections beyond MaxTunnels and those whose tunnel
// never comes are closed; a tunnel for nothing is refused.
func TestTunnelBounds(t *testing.T) {
	r := newTunnelRig(t, http.NotFoundHandler(), false)
	r.ep.mu.Lock()
	r.ep.wait = time.Hour
	r.ep.mu.Unlock()
	var conns []net.Conn
	for range MaxTunnels {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	r.waitOpen(t, MaxTunnels)
	over, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := over.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("connection beyond the cap: read %d, %v; want EOF", n, err)
	}

	// A tunnel for an ID nobody waits for.
	if _, err := r.client.Tunnel(context.Background(), 1<<40); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Tunnel(unknown) = %v, want a 404", err)
	}
	if len(r.tunnels) != MaxTunnels {
		t.Fatalf("%d tunnel requests, want %d", len(r.tunnels), MaxTunnels)
	}

	// Expiry: a short wait closes the next connection unanswered.
	conns[0].Close()
	r.waitOpen(t, MaxTunnels) // still pending: closing is seen only once spliced or expired
	r.ep.mu.Lock()
	r.ep.wait = 20 * time.Millisecond
	for _, p := range r.ep.pending {
		p.timer.Reset(0)
	}
	r.ep.mu.Unlock()
	r.waitOpen(t, 0)
	late, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	_ = late.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := late.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("a connection whose tunnel never came: %v, want EOF", err)
	}
	r.waitOpen(t, 0)
}

func TestListener(t *testing.T) {
	tests := []struct {
		name    string
		closed  bool
		ctxDone bool
		want    error
	}{
		{"closed", true, false, ErrListenerClosed},
		{"nobody accepts before ctx ends", false, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewListener(nil)
			if tt.closed {
				l.Close()
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctxDone {
				cancel()
			}
			defer cancel()
			a, b := net.Pipe()
			defer b.Close()
			if err := l.Deliver(ctx, a); !errors.Is(err, tt.want) {
				t.Fatalf("Deliver = %v, want %v", err, tt.want)
			}
			if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
				t.Fatalf("the undelivered conn is open: %v", err)
			}
		})
	}
	l := NewListener(nil)
	got := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		got <- c
	}()
	a, b := net.Pipe()
	defer b.Close()
	if err := l.Deliver(context.Background(), a); err != nil || <-got != a {
		t.Fatalf("Deliver = %v", err)
	}
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v", err)
	}
}
