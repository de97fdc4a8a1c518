package agentapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// agentStub answers invocations like the agent: framed data, then End.
// "hang" in the payload makes it stop after the first frame until the
// request ends.
func agentStub(t *testing.T) (addr string, conns *atomic.Int32) {
	t.Helper()
	conns = new(atomic.Int32)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
		_ = WriteFrame(w, FrameData, payload)
		if strings.Contains(string(payload), "hang") {
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		_ = WriteEnd(w, &End{LogSeq: 1})
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), conns
}

func TestInvokeConnections(t *testing.T) {
	addr, conns := agentStub(t)
	c := NewClient(addr, "")
	defer c.CloseIdleConnections()
	ctx := context.Background()

	tests := []struct {
		name      string
		payload   string
		cancel    bool // cancel while the body is read
		wantErr   error
		wantConns int32 // connections opened so far
	}{
		{"first call dials", `{"n":1}`, false, nil, 1},
		{"second call reuses the connection", `{"n":2}`, false, nil, 1},
		{"cancelled mid-answer fails with ctx's error", `{"hang":1}`, true, context.Canceled, 1},
		{"the broken connection is not reused", `{"n":3}`, false, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			resp, err := c.Invoke(cctx, &Invocation{RequestID: "r", Payload: []byte(tt.payload)})
			if err != nil {
				t.Fatal(err)
			}
			if tt.cancel {
				buf := make([]byte, len(tt.payload))
				if _, err := io.ReadFull(resp.Body, buf); err != nil {
					t.Fatal(err)
				}
				time.AfterFunc(10*time.Millisecond, cancel)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("read: %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || string(body) != tt.payload {
				t.Fatalf("body %q, %v", body, err)
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Errorf("%d connections opened, want %d", got, tt.wantConns)
			}
		})
	}
}

func TestInvokeDialFailureIsNotDelivered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = NewClient(addr, "").Invoke(context.Background(), &Invocation{RequestID: "r", Payload: []byte(`{}`)})
	if !errors.Is(err, ErrNotDelivered) {
		t.Fatalf("err = %v, want ErrNotDelivered", err)
	}
}
