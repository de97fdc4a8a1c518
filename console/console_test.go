package console

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesAssets(t *testing.T) {
	h := Handler("/_lamb/ui/")
	for _, tc := range []struct {
		method, path string
		code         int
		contentType  string
		body         string
	}{
		{"GET", "/_lamb/ui/", 200, "text/html", `<script src="app.js"`},
		{"GET", "/_lamb/ui/app.js", 200, "text/javascript", "startTail"},
		{"GET", "/_lamb/ui/style.css", 200, "text/css", "body"},
		{"HEAD", "/_lamb/ui/favicon.svg", 200, "image/svg+xml", ""},
		{"GET", "/_lamb/ui/nope.js", 404, "", ""},
		{"POST", "/_lamb/ui/", 405, "", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("%s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: body lacks %q", tc.path, tc.body)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
	}
}
