package api

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestReadRequest: the name is checked before the body, each with AWS's answer.
func TestReadRequest(t *testing.T) {
	type body struct {
		N *int `json:"N"`
	}
	tests := []struct {
		name, function, body string
		wantN                int    // -1: N absent
		wantCode             string // "" for success
	}{
		{"name and body", "fn", `{"N": 3}`, 3, ""},
		{"empty body is {}", "fn", "", -1, ""},
		{"bad name before bad body", "bad name!", `{`, 0, "ValidationException"},
		{"bad body", "fn", `{"N": "x"}`, 0, "InvalidRequestContentException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := &operation{Name: "PutFunctionConcurrency"}
			c := &call{Op: op, Scope: scope{Account: testAccount, Region: "us-east-1"}, Labels: map[string]string{"FunctionName": tc.function}, Query: url.Values{}}
			r := httptest.NewRequest("PUT", "/", strings.NewReader(tc.body))
			ref, in, err := readRequest[body](r, c, resolveFunction)
			if tc.wantCode != "" {
				var ae *awsError
				if !errors.As(err, &ae) || ae.Code != tc.wantCode || in != nil {
					t.Fatalf("= %v, %v; want %s", in, err, tc.wantCode)
				}
				return
			}
			if err != nil || ref.Name != tc.function {
				t.Fatalf("= %+v, %v", ref, err)
			}
			got := -1
			if in.N != nil {
				got = *in.N
			}
			if got != tc.wantN {
				t.Errorf("N = %d, want %d", got, tc.wantN)
			}
		})
	}
}
