package functionurl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lambhq/lamb/engine"
)

// fakeHost serves one URL config whose function answers result (or err).
type fakeHost struct {
	cfg       *Config
	authErr   error
	result    *engine.Result
	invokeErr error
	stream    []string // chunks of a streamed answer
	mediaType string
	got       *engine.Request
}

func (h *fakeHost) Lookup(_ context.Context, id, region string) (*Config, error) {
	if id != h.cfg.URLID || (region != "" && region != h.cfg.Region) {
		return nil, ErrNotFound
	}
	return h.cfg, nil
}

func (h *fakeHost) Authorize(http.ResponseWriter, *http.Request, *Config) error { return h.authErr }

func (h *fakeHost) Target(context.Context, *Config) (*engine.Function, *engine.Request, error) {
	h.got = &engine.Request{RequestID: "req-1", InvokedARN: "arn:aws:lambda:us-east-1:111111111111:function:web"}
	return &engine.Function{Name: "web"}, h.got, nil
}

func (h *fakeHost) Invoke(context.Context, *engine.Function, *engine.Request) (*engine.Result, error) {
	return h.result, h.invokeErr
}

func (h *fakeHost) InvokeStream(context.Context, *engine.Function, *engine.Request) (Stream, error) {
	if h.invokeErr != nil {
		return nil, h.invokeErr
	}
	return &fakeStream{chunks: h.stream, mediaType: h.mediaType, res: h.result}, nil
}

type fakeStream struct {
	chunks    []string
	mediaType string
	res       *engine.Result
}

func (s *fakeStream) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	if s.chunks[0] == "" {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}
func (s *fakeStream) Close() error           { return nil }
func (s *fakeStream) Result() *engine.Result { return s.res }
func (s *fakeStream) MediaType() string      { return s.mediaType }

func newConfig() *Config {
	return &Config{URLID: "abc", Account: "111111111111", Region: "us-east-1", Function: "web", AuthType: "NONE", InvokeMode: "BUFFERED"}
}

func serve(t *testing.T, h *fakeHost, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	g := &Gateway{Host: h, Log: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	if !g.ServeByHost(rec, req) {
		t.Fatalf("host %q not served as a function URL", req.Host)
	}
	return rec
}

func urlRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = "abc.lambda-url.us-east-1.localhost:9001"
	return r
}

func TestHostID(t *testing.T) {
	for _, tc := range []struct {
		host, id, region string
		ok               bool
	}{
		{"abc.lambda-url.us-east-1.localhost", "abc", "us-east-1", true},
		{"ABC.Lambda-URL.eu-west-1.on.aws:443", "abc", "eu-west-1", true},
		{"abc.lambda-url.us-east-1.", "", "", false},
		{"abc.lambda-url..localhost", "", "", false},
		{"localhost:9001", "", "", false},
		{"abc.lambda.us-east-1.localhost", "", "", false},
	} {
		id, region, ok := HostID(tc.host)
		if id != tc.id || region != tc.region || ok != tc.ok {
			t.Errorf("HostID(%q) = %q, %q, %v; want %q, %q, %v", tc.host, id, region, ok, tc.id, tc.region, tc.ok)
		}
	}
}

// TestBufferedResults maps function results to HTTP answers as AWS does.
func TestBufferedResults(t *testing.T) {
	for _, tc := range []struct {
		name, payload  string
		status         int
		body, ctype    string
		header, hvalue string
	}{
		{"structured", `{"statusCode":201,"headers":{"x-custom":"yes","content-type":"text/plain"},"body":"hi"}`, 201, "hi", "text/plain", "X-Custom", "yes"},
		{"bare object", `{"hello":"world"}`, 200, `{"hello":"world"}`, "application/json", "", ""},
		{"string", `"just text"`, 200, "just text", "application/json", "", ""},
		{"base64 body", `{"statusCode":200,"body":"AAH/","isBase64Encoded":true}`, 200, "\x00\x01\xff", "application/json", "", ""},
		{"bad base64", `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, 502, `{"Message":"Internal Server Error"}` + "\n", "application/json", "", ""},
		{"status out of range", `{"statusCode":700}`, 502, `{"Message":"Internal Server Error"}` + "\n", "application/json", "", ""},
		{"cookies", `{"statusCode":200,"cookies":["a=1"]}`, 200, "", "application/json", "Set-Cookie", "a=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &fakeHost{cfg: newConfig(), result: &engine.Result{Payload: []byte(tc.payload)}}
			rec := serve(t, h, urlRequest(http.MethodGet, "/", ""))
			if rec.Code != tc.status || rec.Body.String() != tc.body || rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("got %d %q (%s), want %d %q (%s)", rec.Code, rec.Body, rec.Header().Get("Content-Type"), tc.status, tc.body, tc.ctype)
			}
			if tc.header != "" && rec.Header().Get(tc.header) != tc.hvalue {
				t.Errorf("%s: %q, want %q", tc.header, rec.Header().Get(tc.header), tc.hvalue)
			}
			if rec.Header().Get("X-Amzn-RequestId") != "req-1" && tc.status < 500 {
				t.Errorf("X-Amzn-RequestId %q", rec.Header().Get("X-Amzn-RequestId"))
			}
		})
	}
}

// TestErrors: what the host refuses, a failed function, throttling.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		host   *fakeHost
		req    *http.Request
		status int
		msg    string
	}{
		{"unknown url", &fakeHost{cfg: &Config{URLID: "other"}}, urlRequest(http.MethodGet, "/", ""), 404, "No function URL abc"},
		{"other region", &fakeHost{cfg: &Config{URLID: "abc", Region: "eu-west-1"}}, urlRequest(http.MethodGet, "/", ""), 404, "No function URL abc"},
		{"refused", &fakeHost{cfg: newConfig(), authErr: &Error{Status: 403, Message: "Forbidden"}}, urlRequest(http.MethodGet, "/", ""), 403, "Forbidden"},
		{"host failure", &fakeHost{cfg: newConfig(), authErr: errors.New("disk on fire")}, urlRequest(http.MethodGet, "/", ""), 500, "Internal Server Error"},
		{"function error", &fakeHost{cfg: newConfig(), result: &engine.Result{FunctionError: "Unhandled", Payload: []byte(`{}`)}}, urlRequest(http.MethodGet, "/", ""), 502, "Internal Server Error"},
		{"throttled", &fakeHost{cfg: newConfig(), invokeErr: engine.ErrThrottled}, urlRequest(http.MethodGet, "/", ""), 429, "Rate Exceeded."},
		{"too large", &fakeHost{cfg: newConfig()}, urlRequest(http.MethodPost, "/", strings.Repeat("x", MaxRequestBytes+1)), 413, "Request must be smaller than 6291456 bytes for the InvokeFunction operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(t, tc.host, tc.req)
			var body struct{ Message string }
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tc.status || body.Message != tc.msg {
				t.Errorf("got %d %q, want %d %q", rec.Code, body.Message, tc.status, tc.msg)
			}
			if got := rec.Header().Get("X-Amzn-ErrorType"); got != http.StatusText(tc.status) {
				t.Errorf("X-Amzn-ErrorType %q", got)
			}
		})
	}
}

// TestEvent checks the payload format 2.0 event the function gets.
func TestEvent(t *testing.T) {
	cfg := newConfig()
	cfg.AuthType = "AWS_IAM"
	h := &fakeHost{cfg: cfg, result: &engine.Result{Payload: []byte(`{}`)}}
	r := urlRequest(http.MethodPost, "/p/q?a=1&a=2", "\x00\x01")
	r.Header.Set("Content-Type", "application/octet-stream")
	r.Header.Set("Cookie", "c1=v1; c2=v2")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=222222222222/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	serve(t, h, r)
	var ev urlEvent
	if err := json.Unmarshal(h.got.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"rawPath", ev.RawPath, "/p/q"},
		{"rawQueryString", ev.RawQueryString, "a=1&a=2"},
		{"query a", ev.QueryStringParameters["a"], "1,2"},
		{"cookies", strings.Join(ev.Cookies, "|"), "c1=v1|c2=v2"},
		{"body", *ev.Body, "AAE="},
		{"port", ev.Headers["x-forwarded-port"], "9001"},
		{"domain", ev.RequestContext.DomainName, "abc.lambda-url.us-east-1.localhost"},
		{"request id", ev.RequestContext.RequestID, "req-1"},
		{"caller", ev.RequestContext.Authorizer.IAM.AccountID, "222222222222"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if !ev.IsBase64Encoded || ev.Headers["cookie"] != "" {
		t.Errorf("isBase64Encoded %v, cookie header %q", ev.IsBase64Encoded, ev.Headers["cookie"])
	}
}

func TestCORS(t *testing.T) {
	yes := true
	cfg := newConfig()
	cfg.Cors = &CORS{AllowOrigins: []string{"https://a.example"}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"*"},
		ExposeHeaders: []string{"x-out"}, AllowCredentials: &yes}
	h := &fakeHost{cfg: cfg, result: &engine.Result{Payload: []byte(`{"statusCode":200,"headers":{"access-control-allow-origin":"*"}}`)}}

	pre := urlRequest(http.MethodOptions, "/", "")
	pre.Header.Set("Origin", "https://a.example")
	pre.Header.Set("Access-Control-Request-Method", "post")
	pre.Header.Set("Access-Control-Request-Headers", "x-in")
	rec := serve(t, h, pre)
	if h.got != nil {
		t.Error("a preflight invoked the function")
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Allow-Methods": "GET,POST",
		"Access-Control-Allow-Headers": "x-in", "Access-Control-Allow-Credentials": "true", "Vary": "Origin",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("preflight %s: %q, want %q", k, got, want)
		}
	}

	get := urlRequest(http.MethodGet, "/", "")
	get.Header.Set("Origin", "https://a.example")
	rec = serve(t, h, get)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://a.example" {
		t.Errorf("lamb's CORS header must win over the function's: %q", got)
	}
	if got := rec.Header().Get("Access-Control-Expose-Headers"); got != "x-out" {
		t.Errorf("Access-Control-Expose-Headers %q", got)
	}

	other := urlRequest(http.MethodGet, "/", "")
	other.Header.Set("Origin", "https://b.example")
	if rec = serve(t, h, other); rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("an origin not allowed gets the function's own header only: %q", rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

// TestStream: the prelude's status and headers, then the body; a prelude
// split over chunks; a stream without one.
func TestStream(t *testing.T) {
	nul8 := string(make([]byte, 8))
	for _, tc := range []struct {
		name, mediaType string
		chunks          []string
		res             *engine.Result
		status          int
		body, header    string
	}{
		{"prelude", preludeContentType, []string{`{"statusCode":201,"headers":{"x-a":"1"}}` + nul8 + "hello", " world"}, nil, 201, "hello world", "1"},
		{"split prelude", preludeContentType, []string{`{"statusCode":`, `202}` + nul8[:3], nul8[3:] + "body"}, nil, 202, "body", ""},
		{"prelude only", preludeContentType, []string{`{"statusCode":204,"headers":{"x-a":"2"}}`}, nil, 204, "", "2"},
		{"no prelude", "application/octet-stream", []string{"raw ", "bytes"}, nil, 200, "raw bytes", ""},
		{"function error before output", "application/octet-stream", nil, &engine.Result{FunctionError: "Unhandled"}, 502, `{"Message":"Internal Server Error"}` + "\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newConfig()
			cfg.InvokeMode = "RESPONSE_STREAM"
			h := &fakeHost{cfg: cfg, stream: tc.chunks, mediaType: tc.mediaType, result: tc.res}
			rec := serve(t, h, urlRequest(http.MethodGet, "/", ""))
			if rec.Code != tc.status || !bytes.Equal(rec.Body.Bytes(), []byte(tc.body)) || rec.Header().Get("X-A") != tc.header {
				t.Errorf("got %d %q x-a=%q, want %d %q x-a=%q", rec.Code, rec.Body, rec.Header().Get("X-A"), tc.status, tc.body, tc.header)
			}
		})
	}
}
