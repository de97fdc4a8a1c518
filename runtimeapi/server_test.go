package runtimeapi

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestNextHeaders(t *testing.T) {
	deadline := time.UnixMilli(1893456000123)
	tests := []struct {
		name string
		inv  Invocation
		want map[string]string // "" means the header must be absent
	}{
		{"all fields", Invocation{
			RequestID: "id-1", Payload: []byte(`{"a":1}`), Deadline: deadline,
			InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f",
			TraceID:            "Root=1-abc", ClientContext: `{"custom":{}}`, CognitoIdentity: `{"cognitoIdentityId":"x"}`,
		}, map[string]string{
			headerRequestID: "id-1", headerDeadlineMs: "1893456000123", headerFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f",
			headerTraceID: "Root=1-abc", headerClientContext: `{"custom":{}}`, headerCognitoIdentity: `{"cognitoIdentityId":"x"}`,
			"Content-Type": "application/json",
		}},
		{"optional fields empty", Invocation{RequestID: "id-2", Payload: []byte(`1`), Deadline: deadline},
			map[string]string{headerRequestID: "id-2", headerDeadlineMs: "1893456000123", headerTraceID: "", headerClientContext: "", headerCognitoIdentity: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ch := f.startInvoke(context.Background(), &tt.inv)
			r := f.do(http.MethodGet, base+"/invocation/next", nil, "")
			if r.status != 200 || string(r.body) != string(tt.inv.Payload) {
				t.Fatalf("next: %d %q", r.status, r.body)
			}
			for k, v := range tt.want {
				if _, present := r.header[http.CanonicalHeaderKey(k)]; v == "" && present {
					t.Errorf("%s present: %q", k, r.header.Get(k))
				}
				if got := r.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			f.do(http.MethodPost, base+"/invocation/"+tt.inv.RequestID+"/response", nil, "{}")
			if res := waitResult(t, ch); res.err != nil {
				t.Fatal(res.err)
			}
		})
	}
}

func TestNextWithoutDeadline(t *testing.T) {
	f := newFixture(t, Options{})
	ch := f.startInvoke(context.Background(), &Invocation{RequestID: "a"})
	before := time.Now()
	r := f.do(http.MethodGet, base+"/invocation/next", nil, "")
	ms, err := strconv.ParseInt(r.header.Get(headerDeadlineMs), 10, 64)
	if err != nil || time.UnixMilli(ms).Before(before.Add(14*time.Minute)) {
		t.Fatalf("deadline %q: %v", r.header.Get(headerDeadlineMs), err)
	}
	f.do(http.MethodPost, base+"/invocation/a/response", nil, "")
	waitResult(t, ch)
}

func TestInvokeBusy(t *testing.T) {
	f := newFixture(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := f.startInvoke(ctx, &Invocation{RequestID: "a"})
	// Poll until the first Invoke holds the server.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.s.mu.Lock()
		busy := f.s.invoking
		f.s.mu.Unlock()
		if busy || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_, err := f.s.Invoke(context.Background(), &Invocation{RequestID: "b"})
	if !errors.Is(err, ErrBusy) || !errors.Is(err, ErrNotDelivered) {
		t.Fatalf("second Invoke: %v", err)
	}
	cancel()
	if res := waitResult(t, ch); !errors.Is(res.err, context.Canceled) {
		t.Fatalf("first Invoke: %v", res.err)
	}
}

func TestInvokeCancelBeforeDelivery(t *testing.T) {
	f := newFixture(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.s.Invoke(ctx, &Invocation{RequestID: "never"})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrNotDelivered) || f.s.Delivered() {
		t.Fatalf("err %v, delivered %v", err, f.s.Delivered())
	}
	// The runtime polls afterwards and gets only the next invocation.
	ch := f.startInvoke(context.Background(), &Invocation{RequestID: "next", Payload: []byte("2")})
	r := f.do(http.MethodGet, base+"/invocation/next", nil, "")
	if got := r.header.Get(headerRequestID); got != "next" {
		t.Fatalf("runtime got %q", got)
	}
	f.do(http.MethodPost, base+"/invocation/next/response", nil, "ok")
	if res := waitResult(t, ch); res.err != nil || string(res.body) != "ok" || !f.s.Delivered() {
		t.Fatalf("%+v delivered %v", res, f.s.Delivered())
	}
}

func TestInvokeCancelAfterDelivery(t *testing.T) {
	f := newFixture(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ch := f.startInvoke(ctx, &Invocation{RequestID: "a"})
	f.do(http.MethodGet, base+"/invocation/next", nil, "")
	cancel()
	res := waitResult(t, ch)
	if !errors.Is(res.err, context.Canceled) || errors.Is(res.err, ErrNotDelivered) || !f.s.Delivered() {
		t.Fatalf("err %v, delivered %v", res.err, f.s.Delivered())
	}
	// The late answer is accepted and dropped; the runtime goes on.
	if r := f.do(http.MethodPost, base+"/invocation/a/response", nil, "late"); r.status != 202 {
		t.Fatalf("late response: %d", r.status)
	}
	ch = f.startInvoke(context.Background(), &Invocation{RequestID: "b"})
	f.do(http.MethodGet, base+"/invocation/next", nil, "")
	f.do(http.MethodPost, base+"/invocation/b/response", nil, "fresh")
	if res := waitResult(t, ch); res.err != nil || string(res.body) != "fresh" {
		t.Fatalf("%+v", res)
	}
}

func TestCloseEndsWaiters(t *testing.T) {
	f := newFixture(t, Options{})
	f.toIdle()
	polled := make(chan reply, 1)
	go func() {
		r, _ := f.request(context.Background(), http.MethodGet, base+"/invocation/next", nil, nil)
		polled <- r
	}()
	_ = f.s.Close()
	if r := <-polled; r.status != http.StatusForbidden {
		t.Fatalf("pending next: %d", r.status)
	}
	if _, err := f.s.Invoke(context.Background(), &Invocation{RequestID: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke after Close: %v", err)
	}

	// A delivered invocation waiting for its answer fails too.
	f2 := newFixture(t, Options{})
	ch := f2.startInvoke(context.Background(), &Invocation{RequestID: "a"})
	f2.do(http.MethodGet, base+"/invocation/next", nil, "")
	_ = f2.s.Close()
	if res := waitResult(t, ch); !errors.Is(res.err, ErrClosed) || errors.Is(res.err, ErrNotDelivered) {
		t.Fatalf("pending Invoke: %v", res.err)
	}
	if r := f2.do(http.MethodPost, base+"/invocation/a/response", nil, ""); r.status != http.StatusForbidden {
		t.Fatalf("response after Close: %d", r.status)
	}
}

func TestInvocationError(t *testing.T) {
	tests := []struct {
		name     string
		hdr      map[string]string
		wantType string
	}{
		{"typed", map[string]string{headerErrorType: "Runtime.ExitError", "Content-Type": "application/json"}, "Runtime.ExitError"},
		{"untyped", nil, "Unhandled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ch := f.startInvoke(context.Background(), &Invocation{RequestID: "a"})
			f.do(http.MethodGet, base+"/invocation/next", nil, "")
			r := f.do(http.MethodPost, base+"/invocation/a/error", tt.hdr, `{"errorMessage":"x","errorType":"y"}`)
			if r.status != 202 {
				t.Fatalf("status %d", r.status)
			}
			res := waitResult(t, ch)
			if res.err != nil || res.resp.ErrorType != tt.wantType || string(res.body) != `{"errorMessage":"x","errorType":"y"}` {
				t.Fatalf("%+v %q", res.resp, res.body)
			}
		})
	}
}

func TestBufferedLimit(t *testing.T) {
	const limit = 16
	tests := []struct {
		name     string
		body     string
		wantType string
	}{
		{"at limit", "0123456789abcdef", ""},
		{"over limit", "0123456789abcdefg", ErrorTypeResponseSizeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{MaxBufferedBytes: limit})
			ch := f.startInvoke(context.Background(), &Invocation{RequestID: "a"})
			f.do(http.MethodGet, base+"/invocation/next", nil, "")
			r := f.do(http.MethodPost, base+"/invocation/a/response", nil, tt.body)
			res := waitResult(t, ch)
			if res.err != nil || res.resp.ErrorType != tt.wantType {
				t.Fatalf("%v %+v", res.err, res.resp)
			}
			if tt.wantType == "" {
				if r.status != 202 || string(res.body) != tt.body {
					t.Fatalf("%d %q", r.status, res.body)
				}
				return
			}
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d", r.status)
			}
			jsonEq(t, r.body, `{"errorMessage":"Exceeded maximum allowed payload size (16 bytes).","errorType":"RequestEntityTooLarge"}`)
			jsonEq(t, res.body, `{"errorMessage":"Response payload size exceeded maximum allowed payload size (16 bytes).","errorType":"Function.ResponseSizeTooLarge"}`)
			// The runtime may take the next invocation.
			ch = f.startInvoke(context.Background(), &Invocation{RequestID: "b"})
			if r := f.do(http.MethodGet, base+"/invocation/next", nil, ""); r.status != 200 {
				t.Fatalf("next after 413: %d", r.status)
			}
			f.do(http.MethodPost, base+"/invocation/b/response", nil, "")
			waitResult(t, ch)
		})
	}
}

func TestBufferedErrorTrailer(t *testing.T) {
	// aws-lambda-go reports a failing response reader in trailers, even on a buffered answer.
	errJSON := `{"errorMessage":"read failed","errorType":"errorString"}`
	tests := []struct {
		name     string
		values   http.Header
		wantType string
		wantBody string
	}{
		{"declared but empty", nil, "", "partial"},
		{"error", http.Header{headerErrorType: {"errorString"}, headerErrorBody: {base64.StdEncoding.EncodeToString([]byte(errJSON))}}, "errorString", errJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ch := f.startInvoke(context.Background(), &Invocation{RequestID: "a"})
			f.do(http.MethodGet, base+"/invocation/next", nil, "")
			trailer := http.Header{headerErrorType: nil, headerErrorBody: nil}
			pw, replied := f.pipeRequest(context.Background(), base+"/invocation/a/response", nil, trailer)
			if _, err := pw.Write([]byte("partial")); err != nil {
				t.Fatal(err)
			}
			// The transport sends the request's Trailer map as it is at body EOF.
			for k, v := range tt.values {
				trailer[k] = v
			}
			pw.Close()
			res := waitResult(t, ch)
			if res.err != nil || res.resp.ErrorType != tt.wantType || string(res.body) != tt.wantBody {
				t.Fatalf("%v %+v %q", res.err, res.resp, res.body)
			}
			if r := <-replied; r.status != http.StatusAccepted {
				t.Fatalf("status %d", r.status)
			}
		})
	}
}

// TestStreaming drives streamed answers posted by a hand-made runtime, chunk by chunk.
func TestStreaming(t *testing.T) {
	errJSON := `{"errorMessage":"late failure","errorType":"Boom"}`
	tests := []struct {
		name       string
		inv        Invocation
		hdr        map[string]string
		trailer    http.Header // values set after the chunks
		chunks     []string
		wantType   string
		wantBody   string
		wantStatus int
	}{
		{name: "mode header", inv: Invocation{RequestID: "a"}, hdr: map[string]string{headerResponseMode: "streaming", "Content-Type": "text/plain"},
			chunks: []string{"one", "two", "three"}, wantStatus: 202},
		{name: "requested by invocation", inv: Invocation{RequestID: "a", StreamResponse: true}, hdr: map[string]string{"Content-Type": "text/plain"},
			chunks: []string{"one", "two"}, wantStatus: 202},
		{name: "error trailer base64", inv: Invocation{RequestID: "a"}, hdr: map[string]string{headerResponseMode: "streaming"},
			trailer: http.Header{headerErrorType: {"Boom"}, headerErrorBody: {base64.StdEncoding.EncodeToString([]byte(errJSON))}},
			chunks:  []string{"one"}, wantType: "Boom", wantBody: errJSON, wantStatus: 202},
		{name: "error trailer raw", inv: Invocation{RequestID: "a"}, hdr: map[string]string{headerResponseMode: "streaming"},
			trailer: http.Header{headerErrorType: {"Boom"}, headerErrorBody: {"not base64!"}},
			chunks:  []string{"one"}, wantType: "Boom", wantBody: "not base64!", wantStatus: 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := make(chan *Response, 1)
			errc := make(chan error, 1)
			go func() {
				resp, err := f.s.Invoke(ctx, &tt.inv)
				errc <- err
				got <- resp
			}()
			f.do(http.MethodGet, base+"/invocation/next", nil, "")
			trailer := http.Header{}
			for k := range tt.trailer {
				trailer[k] = nil
			}
			pw, replied := f.pipeRequest(ctx, base+"/invocation/a/response", tt.hdr, trailer)
			if err := <-errc; err != nil {
				// Invoke returns on the headers, before any chunk was written.
				t.Fatal(err)
			}
			resp := <-got
			if !resp.Streaming || resp.ContentType != tt.hdr["Content-Type"] {
				t.Fatalf("%+v", resp)
			}
			buf := make([]byte, 64)
			for _, c := range tt.chunks {
				// Write runs concurrently: a Write into the request pipe returns once the
				// transport took it, and the chunk must reach Body without further data.
				go func() { _, _ = pw.Write([]byte(c)) }()
				n, err := io.ReadAtLeast(resp.Body, buf, len(c))
				if err != nil || string(buf[:n]) != c {
					t.Fatalf("chunk %q: got %q, %v", c, buf[:n], err)
				}
			}
			for k, v := range tt.trailer {
				trailer[k] = v
			}
			pw.Close()
			if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 0 {
				t.Fatalf("end: %q %v", rest, err)
			}
			resp.Body.Close()
			typ, body := resp.Trailer()
			if typ != tt.wantType || string(body) != tt.wantBody {
				t.Fatalf("trailer %q %q", typ, body)
			}
			if r := <-replied; r.status != tt.wantStatus {
				t.Fatalf("status %d %s", r.status, r.body)
			}
		})
	}
}

// streamStart delivers one invocation and opens a streamed answer; it returns the Response and
// the runtime's side of the request.
func streamStart(t *testing.T, f *fixture, ctx context.Context) (*Response, *io.PipeWriter, <-chan reply) {
	t.Helper()
	ch := make(chan invokeResult, 1)
	go func() {
		resp, err := f.s.Invoke(ctx, &Invocation{RequestID: "a", StreamResponse: true})
		ch <- invokeResult{resp: resp, err: err}
	}()
	f.do(http.MethodGet, base+"/invocation/next", nil, "")
	pw, replied := f.pipeRequest(context.Background(), base+"/invocation/a/response", nil, nil)
	res := waitResult(t, ch)
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.resp, pw, replied
}

func TestStreamingLimit(t *testing.T) {
	f := newFixture(t, Options{MaxStreamedBytes: 8})
	resp, pw, replied := streamStart(t, f, context.Background())
	go func() {
		_, _ = pw.Write([]byte("12345"))
		_, _ = pw.Write([]byte("67890"))
		pw.Close()
	}()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "12345678" {
		t.Fatalf("%q %v", body, err)
	}
	typ, eb := resp.Trailer()
	if typ != ErrorTypeResponseSizeTooLarge {
		t.Fatalf("trailer %q", typ)
	}
	jsonEq(t, eb, `{"errorMessage":"Response payload size exceeded maximum allowed payload size (8 bytes).","errorType":"Function.ResponseSizeTooLarge"}`)
	if r := <-replied; r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("runtime got %d", r.status)
	}
}

func TestStreamingRuntimeBreaksOff(t *testing.T) {
	f := newFixture(t, Options{})
	resp, pw, replied := streamStart(t, f, context.Background())
	go func() {
		_, _ = pw.Write([]byte("abc"))
		pw.CloseWithError(errors.New("runtime crashed")) // the transport aborts the request
	}()
	_, err := io.ReadAll(resp.Body)
	if !errors.Is(err, ErrResponseTruncated) {
		t.Fatalf("read: %v", err)
	}
	<-replied
	// The server is idle again: a fresh poll is legal (and is ended by Close).
	ch := f.startInvoke(context.Background(), &Invocation{RequestID: "b"})
	if r := f.do(http.MethodGet, base+"/invocation/next", nil, ""); r.status != 200 {
		t.Fatalf("next after broken stream: %d", r.status)
	}
	_ = f.s.Close()
	waitResult(t, ch)
}

func TestStreamingServerClosed(t *testing.T) {
	f := newFixture(t, Options{})
	resp, pw, replied := streamStart(t, f, context.Background())
	go func() { _, _ = pw.Write([]byte("abc")) }()
	buf := make([]byte, 3)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	_ = f.s.Close()
	if _, err := resp.Body.Read(buf); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	pw.Close()
	if r := <-replied; r.status != http.StatusForbidden && r.status != http.StatusAccepted {
		t.Fatalf("runtime got %d", r.status)
	}
}

func TestStreamingBodyClosedEarly(t *testing.T) {
	f := newFixture(t, Options{})
	resp, pw, replied := streamStart(t, f, context.Background())
	resp.Body.Close()
	go func() {
		_, _ = pw.Write([]byte("dropped"))
		pw.Close()
	}()
	// The rest is drained and acknowledged so the runtime can go on.
	if r := <-replied; r.status != http.StatusAccepted {
		t.Fatalf("runtime got %d", r.status)
	}
}
