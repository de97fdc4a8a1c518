package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The stacks API keeps one record per account, region and name.
func TestStacksAPI(t *testing.T) {
	h := newHarness(t, Config{})
	do := func(method, path, body string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, h.ts.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/_lamb/stacks/app", "", 404, "Stack not found: app"},
		{"PUT", "/_lamb/stacks/app", `{"name":"other"}`, 400, "must be the stack name"},
		{"PUT", "/_lamb/stacks/app", `not json`, 400, "Could not parse"},
		{"PUT", "/_lamb/stacks/1app", `{"name":"1app"}`, 400, "stack name"},
		{"PUT", "/_lamb/stacks/app", `{"name":"app","outputs":{"A":"b"}}`, 204, ""},
		{"GET", "/_lamb/stacks/app", "", 200, `"outputs":{"A":"b"}`},
		{"POST", "/_lamb/stacks", "", 405, "not allowed"},
		{"DELETE", "/_lamb/stacks/app", "", 204, ""},
		{"DELETE", "/_lamb/stacks/app", "", 404, "Stack not found"},
	}
	for _, tc := range tests {
		status, body := do(tc.method, tc.path, tc.body)
		if status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s %s %s = %d %s, want %d containing %q", tc.method, tc.path, tc.body, status, body, tc.status, tc.contains)
		}
	}
	do("PUT", "/_lamb/stacks/b", `{"name":"b"}`)
	do("PUT", "/_lamb/stacks/a", `{"name":"a"}`)
	_, body := do("GET", "/_lamb/stacks", "")
	var list struct {
		Account, Region string
		Stacks          []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if list.Account == "" || list.Region != "us-east-1" || len(list.Stacks) != 2 || list.Stacks[0].Name != "a" || list.Stacks[1].Name != "b" {
		t.Errorf("list = %s", body)
	}
}
