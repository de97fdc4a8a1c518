package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lambhq/lamb/store"
)

// The browser attacks of issue 12: a page's simple POST (text/plain, a
// foreign Origin) and a DNS-rebinding Host create and read nothing, while
// clients that send no Origin, same-origin pages and allowed origins pass.
func TestBrowserGuard(t *testing.T) {
	srv := New(Config{Store: store.NewMemory(), ListenHosts: []string{"127.0.0.1"},
		AllowedHosts: []string{"lamb.internal"}, AllowedOrigins: []string{"http://localhost:5173"}})
	defer srv.Close(context.Background())
	create := createBody(t, "from-page")
	for _, tc := range []struct {
		name    string
		method  string
		path    string
		host    string
		headers map[string]string
		want    int
		wantMsg string
	}{
		{"simple POST from a foreign page", "POST", "/2015-03-31/functions", "127.0.0.1:3001",
			map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}, 403, "--allow-origin http://evil.example"},
		{"rebinding Host", "GET", "/2015-03-31/functions/", "evil.example:3001", nil, 403, "--allow-host evil.example"},
		{"rebinding Host on /_lamb/", "GET", "/_lamb/instances", "evil.example:3001", nil, 403, "--allow-host"},
		{"no-cors request from another site", "GET", "/_lamb/instances", "127.0.0.1:3001",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "--allow-origin"},
		{"null origin (sandboxed frame)", "GET", "/2015-03-31/functions/", "localhost:3001",
			map[string]string{"Origin": "null"}, 403, "--allow-origin"},
		{"another port of localhost", "GET", "/2015-03-31/functions/", "localhost:3001",
			map[string]string{"Origin": "http://localhost:8080"}, 403, "--allow-origin"},
		{"SDK client", "GET", "/2015-03-31/functions/", "127.0.0.1:3001", nil, 200, ""},
		{"localhost names", "GET", "/2015-03-31/functions/", "localhost:3001", nil, 200, ""},
		{"IPv6 loopback", "GET", "/2015-03-31/functions/", "[::1]:3001", nil, 200, ""},
		{"allowed host", "GET", "/2015-03-31/functions/", "lamb.internal:3001", nil, 200, ""},
		{"same-origin page", "GET", "/2015-03-31/functions/", "127.0.0.1:3001",
			map[string]string{"Origin": "http://127.0.0.1:3001", "Sec-Fetch-Site": "same-origin"}, 200, ""},
		{"allowed origin", "GET", "/2015-03-31/functions/", "127.0.0.1:3001",
			map[string]string{"Origin": "http://localhost:5173"}, 200, ""},
		{"allowed origin's preflight", "OPTIONS", "/2015-03-31/functions", "127.0.0.1:3001",
			map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}, 200, ""},
		{"function URL from any page (its CORS decides)", "GET", "/_lamb/urls/nosuchurl/", "127.0.0.1:3001",
			map[string]string{"Origin": "http://evil.example"}, 404, ""},
		{"function URL host under localhost", "GET", "/", "abc.lambda-url.us-east-1.localhost:3001",
			map[string]string{"Origin": "http://evil.example"}, 404, ""},
		{"function URL host under a rebinding name", "GET", "/", "abc.lambda-url.us-east-1.evil.example", nil, 403, "--allow-host evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			if tc.method == "POST" {
				body = strings.NewReader(create)
			} else {
				body = strings.NewReader("")
			}
			r := httptest.NewRequest(tc.method, tc.path, body)
			r.Host = tc.host
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == 403 && (rec.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" || !strings.Contains(rec.Body.String(), tc.wantMsg)) {
				t.Errorf("refusal %q: %s", rec.Header().Get("X-Amzn-ErrorType"), rec.Body)
			}
			if o := tc.headers["Origin"]; o == "http://localhost:5173" && rec.Header().Get("Access-Control-Allow-Origin") != o {
				t.Errorf("allowed origin got no CORS answer: %v", rec.Header())
			}
		})
	}
	// Nothing was created by the refused page.
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/2015-03-31/functions/", nil)
	r.Host = "127.0.0.1:3001"
	srv.ServeHTTP(rec, r)
	if strings.Contains(rec.Body.String(), "from-page") {
		t.Errorf("a refused request created a function: %s", rec.Body)
	}
}
