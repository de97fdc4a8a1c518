package agentapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRequireSecret(t *testing.T) {
	const secret = "the-secret"
	tests := []struct {
		name   string
		secret string // the agent's
		auth   string // the request's Authorization ("" for none)
		want   int
	}{
		{"the secret", secret, "Bearer " + secret, http.StatusOK},
		{"no header", secret, "", http.StatusUnauthorized},
		{"another secret", secret, "Bearer other", http.StatusForbidden},
		{"a longer secret", secret, "Bearer " + secret + "x", http.StatusForbidden},
		{"a prefix of it", secret, "Bearer " + secret[:3], http.StatusForbidden},
		{"another scheme", secret, "Basic " + secret, http.StatusForbidden},
		{"the bare secret", secret, secret, http.StatusForbidden},
		{"an empty bearer", secret, "Bearer ", http.StatusForbidden},
		{"an agent without a secret refuses even an empty one", "", "Bearer ", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served := false
			h := RequireSecret(tt.secret, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served = true }))
			req := httptest.NewRequest(http.MethodPost, PathInvoke, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want || served != (tt.want == http.StatusOK) {
				t.Errorf("status %d, served %v; want %d", rec.Code, served, tt.want)
			}
			if tt.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestClientSendsSecret: every call of a Client carries its secret; a
// Client with another secret gets nothing.
func TestClientSendsSecret(t *testing.T) {
	secret := NewSecret()
	if other := NewSecret(); other == secret || len(secret) < 20 {
		t.Fatalf("NewSecret: %q then %q", secret, other)
	}
	srv := httptest.NewServer(RequireSecret(secret, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case PathEvents:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"type":"ready"}` + "\n"))
		case PathInvoke:
			w.WriteHeader(http.StatusOK)
			_ = WriteEnd(w, &End{})
		case PathTunnel:
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", tunnelProtocol)
			w.WriteHeader(http.StatusSwitchingProtocols)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	calls := []struct {
		name string
		do   func(ctx context.Context, c *Client) error
	}{
		{"events", func(ctx context.Context, c *Client) error {
			es, err := c.Events(ctx)
			if err == nil {
				_, err = es.Next()
				es.Close()
			}
			return err
		}},
		{"invoke", func(ctx context.Context, c *Client) error {
			resp, err := c.Invoke(ctx, &Invocation{RequestID: "r"})
			if err == nil {
				resp.Body.Close()
			}
			return err
		}},
		{"tunnel", func(ctx context.Context, c *Client) error {
			tc, err := c.Tunnel(ctx, 1)
			if err == nil {
				tc.Close()
			}
			return err
		}},
		{"shutdown", func(ctx context.Context, c *Client) error { return c.Shutdown(ctx) }},
	}
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			right, wrong := NewClient(addr, secret), NewClient(addr, "other")
			defer right.CloseIdleConnections()
			defer wrong.CloseIdleConnections()
			if err := call.do(ctx, right); err != nil {
				t.Errorf("with the secret: %v", err)
			}
			err := call.do(ctx, wrong)
			if err == nil || !strings.Contains(err.Error(), "403") {
				t.Errorf("with another secret: %v, want a 403", err)
			}
		})
	}
}
