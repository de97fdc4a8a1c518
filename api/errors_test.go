package api

import (
	"net/http/httptest"
	"testing"
)

// TestReply: a handler's answer has the operation's success status, and a
// body only when it has something to say.
func TestReply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		code  int
		write func(*httptest.ResponseRecorder, *call) error
		want  string
		ctype string
	}{
		{"json", 200, func(w *httptest.ResponseRecorder, c *call) error { return reply(w, c, map[string]string{"A": "b"}) }, "{\"A\":\"b\"}\n", "application/json"},
		{"empty object", 201, func(w *httptest.ResponseRecorder, c *call) error { return reply(w, c, struct{}{}) }, "{}\n", "application/json"},
		{"default status", 0, func(w *httptest.ResponseRecorder, c *call) error { return reply(w, c, []int{}) }, "[]\n", "application/json"},
		{"no body", 204, func(w *httptest.ResponseRecorder, c *call) error { return replyEmpty(w, c) }, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := tc.write(rec, &call{Op: &operation{Code: tc.code}}); err != nil {
				t.Fatal(err)
			}
			want := tc.code
			if want == 0 {
				want = 200
			}
			if rec.Code != want || rec.Body.String() != tc.want || rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("= %d %q %q; want %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"), want, tc.want, tc.ctype)
			}
		})
	}
}
