package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// postInvoke sends Invoke's and InvokeWithResponseStream's requests alike
// but for the path.
func TestPostInvoke(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "") // unsigned: the server below checks no signature
	for _, tc := range []struct {
		name, version, op, fn, qualifier string
		showLog                          bool
		wantURI, wantLog                 string
	}{
		{"invoke", "2015-03-31", "invocations", "hello", "", false,
			"/2015-03-31/functions/hello/invocations", ""},
		{"invoke with qualifier and log", "2015-03-31", "invocations", "hello", "live", true,
			"/2015-03-31/functions/hello/invocations?Qualifier=live", "Tail"},
		{"stream, escaped", "2021-11-15", "response-streaming-invocations", "a b", "$LATEST", true,
			"/2021-11-15/functions/a%20b/response-streaming-invocations?Qualifier=%24LATEST", "Tail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var method, uri, logType, body string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				method, uri, logType, body = r.Method, r.RequestURI, r.Header.Get("X-Amz-Log-Type"), string(b)
			}))
			defer srv.Close()
			resp, err := postInvoke(context.Background(), srv.URL+"/", tc.version, tc.op, tc.fn, tc.qualifier, []byte(`{"k":1}`), tc.showLog)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if method != http.MethodPost || uri != tc.wantURI || logType != tc.wantLog || body != `{"k":1}` {
				t.Errorf("got %s %s (X-Amz-Log-Type %q) %s, want POST %s (%q) {\"k\":1}", method, uri, logType, body, tc.wantURI, tc.wantLog)
			}
		})
	}
}
