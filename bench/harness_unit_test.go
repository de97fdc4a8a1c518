package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// run.sh builds the same RIE the benchmarks would build themselves.
func TestRunScriptPinsRIEVersion(t *testing.T) {
	b, err := os.ReadFile("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RIE_VERSION=" + rieVersion + "\n", "RIE_PKG=" + rieModule + "\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("run.sh does not contain %q", strings.TrimSpace(want))
		}
	}
}

func TestInvokeChecksTheEcho(t *testing.T) {
	payload := compactJSON(`{"a": [1, 2], "b": "x"}`)
	tests := []struct {
		name     string
		status   int
		fnError  string
		body     string
		wantErr  bool
		function bool // the error is errFunction
	}{
		{name: "exact echo", status: 200, body: `{"a":[1,2],"b":"x"}`},
		{name: "python spacing", status: 200, body: `{"b": "x", "a": [1, 2]}`},
		{name: "different value", status: 200, body: `{"a":[1,2],"b":"y"}`, wantErr: true, function: true},
		{name: "not JSON", status: 200, body: `oops`, wantErr: true, function: true},
		{name: "function error", status: 200, fnError: "Unhandled", body: `{"a":[1,2],"b":"x"}`, wantErr: true, function: true},
		{name: "throttled", status: 429, body: `{"message":"Rate exceeded"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ := io.ReadAll(r.Body)
				if string(got) != string(payload) || r.Method != http.MethodPost {
					http.Error(w, "bad request "+string(got), http.StatusBadRequest)
					return
				}
				if tc.fnError != "" {
					w.Header().Set("X-Amz-Function-Error", tc.fnError)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			err := invoke(context.Background(), srv.Client(), srv.URL, payload)
			if (err != nil) != tc.wantErr || errors.Is(err, errFunction) != tc.function {
				t.Errorf("invoke() = %v, want error %v (function error %v)", err, tc.wantErr, tc.function)
			}
		})
	}
}
