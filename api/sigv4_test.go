package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lambhq/lamb/store"
)

// Requests signed by aws-sdk-go-v2's own signer are verified by lamb's;
// every way of getting a signature wrong gets AWS's 403.
func TestSigV4Verification(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	srv := New(Config{Store: store.NewMemory(), Now: func() time.Time { return now },
		Credentials: map[string]string{"AKIDLAMB": "s3cret", "123456789012": "other"}})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close(context.Background())

	sign := func(req *http.Request, body []byte, akid, secret string, at time.Time) {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
	}
	presign := func(req *http.Request, akid, secret string, at time.Time) *http.Request {
		sum := sha256.Sum256(nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest(req.Method, u, nil)
		return out
	}
	list := ts.URL + "/2015-03-31/functions/?MaxItems=5&FunctionVersion=ALL"
	create := ts.URL + "/2015-03-31/functions"
	body := []byte(createBody(t, "signed-fn"))

	for _, tc := range []struct {
		name     string
		req      func() *http.Request
		want     int
		wantType string
	}{
		{"header signature", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			sign(r, nil, "AKIDLAMB", "s3cret", now)
			return r
		}, 200, ""},
		{"signed body", func() *http.Request {
			r, _ := http.NewRequest("POST", create, bytes.NewReader(body))
			sign(r, body, "AKIDLAMB", "s3cret", now.Add(-4*time.Minute))
			return r
		}, 201, ""},
		{"ARN in the path (escaped colons)", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Asigned-fn", nil)
			sign(r, nil, "AKIDLAMB", "s3cret", now)
			return r
		}, 200, ""},
		{"presigned", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			return presign(r, "AKIDLAMB", "s3cret", now.Add(-time.Minute))
		}, 200, ""},
		{"wrong secret", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			sign(r, nil, "AKIDLAMB", "wrong", now)
			return r
		}, 403, "InvalidSignatureException"},
		{"body changed after signing", func() *http.Request {
			r, _ := http.NewRequest("POST", create, bytes.NewReader(bytes.Replace(body, []byte("signed-fn"), []byte("other-fn1"), 1)))
			sign(r, body, "AKIDLAMB", "s3cret", now)
			return r
		}, 403, "InvalidSignatureException"},
		{"unknown access key", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			sign(r, nil, "AKIDNOBODY", "s3cret", now)
			return r
		}, 403, "UnrecognizedClientException"},
		{"expired", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			sign(r, nil, "AKIDLAMB", "s3cret", now.Add(-6*time.Minute))
			return r
		}, 403, "InvalidSignatureException"},
		{"presigned and expired", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			return presign(r, "AKIDLAMB", "s3cret", now.Add(-16*time.Minute))
		}, 403, "InvalidSignatureException"},
		{"unsigned", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			return r
		}, 403, "MissingAuthenticationTokenException"},
		{"malformed header", func() *http.Request {
			r, _ := http.NewRequest("GET", list, nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDLAMB/20261203/us-east-1/lambda/aws4_request")
			return r
		}, 403, "IncompleteSignatureException"},
		{"/_lamb/ unsigned", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/_lamb/instances", nil)
			return r
		}, 403, "MissingAuthenticationTokenException"},
		{"/_lamb/ with a bearer token", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/_lamb/urls", nil)
			r.Header.Set("Authorization", "Bearer AKIDLAMB:s3cret")
			return r
		}, 200, ""},
		{"/_lamb/ with a wrong bearer token", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/_lamb/urls", nil)
			r.Header.Set("Authorization", "Bearer AKIDLAMB:nope")
			return r
		}, 403, "UnrecognizedClientException"},
		{"/_lamb/health needs nothing", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/_lamb/health", nil)
			return r
		}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := ts.Client().Do(tc.req())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, b)
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); tc.wantType != "" && !strings.HasPrefix(got, tc.wantType) {
				t.Errorf("X-Amzn-ErrorType %q, want %s (%s)", got, tc.wantType, b)
			}
		})
	}
	// The signed create made a function; the refused one did not.
	r, _ := http.NewRequest("GET", list, nil)
	sign(r, nil, "AKIDLAMB", "s3cret", now)
	resp, err := ts.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Functions []struct{ FunctionName string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Functions) != 1 || out.Functions[0].FunctionName != "signed-fn" {
		t.Errorf("functions = %+v", out.Functions)
	}
}
