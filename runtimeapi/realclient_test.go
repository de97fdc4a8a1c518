package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	// Keeps aws-lambda-go in go.mod for the testdata/echo runtime: go mod tidy ignores
	// testdata. The events package has no init side effects.
	_ "github.com/aws/aws-lambda-go/events"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// echoBinary builds testdata/echo (aws-lambda-go) once per test run.
func echoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "runtimeapi-echo-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "echo")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", buildBin, "./testdata/echo")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func cleanupBuilds() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// runtimeFixture is a Server on a real listener with the echo runtime attached.
type runtimeFixture struct {
	s      *Server
	exited chan struct{} // closed when the runtime process exited
}

func startRuntime(t *testing.T, opts Options) *runtimeFixture {
	t.Helper()
	bin := echoBinary(t)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := NewServer(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s.Handler()}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(ln)
	}()

	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()
	f := &runtimeFixture{s: s, exited: exited}

	t.Cleanup(func() {
		// Closing ends the runtime's /next poll with 403; aws-lambda-go then exits by itself.
		_ = s.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-served
		if t.Failed() {
			t.Logf("runtime stderr:\n%s", stderr.String())
		}
	})

	select {
	case <-s.Ready():
	case ie := <-s.InitErr():
		t.Fatalf("init error %+v", ie)
	case <-exited:
		t.Fatalf("runtime exited before ready: %v\n%s", exitErr, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("runtime never polled /next")
	}
	return f
}

func (f *runtimeFixture) invoke(t *testing.T, inv *Invocation) (*Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := f.s.Invoke(ctx, inv)
	if err != nil {
		t.Fatalf("Invoke %s: %v", inv.RequestID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, body
}

func TestRealClientEchoAndErrors(t *testing.T) {
	f := startRuntime(t, Options{})
	deadline := time.Now().Add(time.Minute)
	tests := []struct {
		name     string
		payload  string
		wantType string
		wantBody string
	}{
		{"echo", `{"op":"echo","message":"hi ☃"}`, "", `{"op":"echo","message":"hi ☃"}`},
		{"handler error", `{"op":"error","message":"boom"}`, "Unhandled", `{"errorMessage":"boom","errorType":"errorString"}`},
		{"echo after error", `{"op":"echo","n":2}`, "", `{"op":"echo","n":2}`},
		{"bad payload", `[1,2]`, "Unhandled", `{"errorMessage":"json: cannot unmarshal array into Go value of type main.request","errorType":"UnmarshalTypeError"}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.invoke(t, &Invocation{RequestID: fmt.Sprintf("req-%d", i), Payload: []byte(tt.payload), Deadline: deadline})
			if resp.ErrorType != tt.wantType {
				t.Fatalf("ErrorType %q, want %q (body %s)", resp.ErrorType, tt.wantType, body)
			}
			if resp.Streaming {
				t.Fatal("buffered answer marked streaming")
			}
			if tt.wantBody != "" {
				jsonEq(t, body, tt.wantBody)
			}
			if !f.s.Delivered() {
				t.Fatal("Delivered false after an answer")
			}
		})
	}
}

func TestRealClientContext(t *testing.T) {
	f := startRuntime(t, Options{})
	deadline := time.Now().Add(90 * time.Second)
	inv := &Invocation{
		RequestID:          "7c1c4c0e-0000-4000-8000-000000000001",
		Payload:            []byte(`{"op":"context"}`),
		Deadline:           deadline,
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:echo:live",
		TraceID:            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		ClientContext:      `{"custom":{"k":"v"}}`,
		CognitoIdentity:    `{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"pool"}`,
	}
	resp, body := f.invoke(t, inv)
	if resp.ErrorType != "" {
		t.Fatalf("function error %s: %s", resp.ErrorType, body)
	}
	jsonEq(t, body, fmt.Sprintf(`{"requestId":%q,"functionArn":%q,"deadlineMs":%d,"traceId":%q,"clientCustom":"v","cognitoId":"us-east-1:abc","hasClientCtx":true,"hasCognitoCtx":true}`,
		inv.RequestID, inv.InvokedFunctionARN, deadline.UnixMilli(), inv.TraceID))

	// Empty optional fields are omitted, which the client reads as absent.
	resp, body = f.invoke(t, &Invocation{RequestID: "r2", Payload: []byte(`{"op":"context"}`), Deadline: deadline})
	if resp.ErrorType != "" {
		t.Fatalf("function error %s: %s", resp.ErrorType, body)
	}
	var got struct {
		HasClientCtx, HasCognitoCtx bool
		TraceID                     string
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.HasClientCtx || got.HasCognitoCtx || got.TraceID != "" {
		t.Fatalf("optional context present: %s", body)
	}
}

func TestRealClientOversizedResponse(t *testing.T) {
	f := startRuntime(t, Options{})
	size := int(DefaultMaxBufferedBytes) // a JSON string: two quotes push it over
	resp, body := f.invoke(t, &Invocation{RequestID: "big", Payload: []byte(fmt.Sprintf(`{"op":"big","size":%d}`, size)), Deadline: time.Now().Add(time.Minute)})
	if resp.ErrorType != ErrorTypeResponseSizeTooLarge {
		t.Fatalf("ErrorType %q", resp.ErrorType)
	}
	jsonEq(t, body, `{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`)
	// aws-lambda-go treats the 413 as fatal and exits, as it does on AWS.
	select {
	case <-f.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("runtime did not exit after 413")
	}
}

func TestRealClientJustUnderLimit(t *testing.T) {
	f := startRuntime(t, Options{})
	size := int(DefaultMaxBufferedBytes) - 2 // plus two quotes: exactly the limit
	resp, body := f.invoke(t, &Invocation{RequestID: "edge", Payload: []byte(fmt.Sprintf(`{"op":"big","size":%d}`, size)), Deadline: time.Now().Add(time.Minute)})
	if resp.ErrorType != "" || int64(len(body)) != DefaultMaxBufferedBytes {
		t.Fatalf("ErrorType %q, %d bytes", resp.ErrorType, len(body))
	}
}

// readUntil reads r until the data read so far contains want.
func readUntil(r io.Reader, want string) (string, error) {
	var got []byte
	buf := make([]byte, 1024)
	for !strings.Contains(string(got), want) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return string(got), err
		}
	}
	return string(got), nil
}

// openSignal releases the function waiting on the FIFO: opening for writing blocks until the
// function opens it for reading, which proves the function is still running.
func openSignal(t *testing.T, fifo string) {
	t.Helper()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRealClientStreaming(t *testing.T) {
	tests := []struct {
		op        string
		wantTail  string
		wantType  string
		wantError string
	}{
		{op: "stream", wantTail: "chunk2"},
		{op: "streamfail", wantType: "errorString", wantError: `{"errorMessage":"stream broke midway","errorType":"errorString"}`},
	}
	f := startRuntime(t, Options{})
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "signal")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := f.s.Invoke(ctx, &Invocation{
				RequestID:      "stream-" + tt.op,
				Payload:        []byte(fmt.Sprintf(`{"op":%q,"signal":%q}`, tt.op, fifo)),
				Deadline:       time.Now().Add(time.Minute),
				StreamResponse: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if !resp.Streaming || resp.ContentType != "application/vnd.awslambda.http-integration-response" {
				t.Fatalf("Streaming %v, ContentType %q", resp.Streaming, resp.ContentType)
			}
			// The prelude and first chunk arrive while the function is blocked on the FIFO.
			head, err := readUntil(resp.Body, "chunk1")
			if err != nil {
				t.Fatalf("first chunk: %q, %v", head, err)
			}
			if !strings.HasPrefix(head, `{"statusCode":201`) || !strings.HasSuffix(head, "\x00\x00\x00\x00\x00\x00\x00\x00chunk1") {
				t.Fatalf("head %q", head)
			}
			openSignal(t, fifo)
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(rest) != tt.wantTail {
				t.Fatalf("rest %q, want %q", rest, tt.wantTail)
			}
			typ, errBody := resp.Trailer()
			if typ != tt.wantType {
				t.Fatalf("trailer type %q, want %q", typ, tt.wantType)
			}
			if tt.wantError != "" {
				jsonEq(t, errBody, tt.wantError)
			}
		})
	}
	// The runtime is still healthy after both streams.
	resp, body := f.invoke(t, &Invocation{RequestID: "after", Payload: []byte(`{"op":"echo"}`), Deadline: time.Now().Add(time.Minute)})
	if resp.ErrorType != "" || string(body) != `{"op":"echo"}` {
		t.Fatalf("after streams: %q %s", resp.ErrorType, body)
	}
}

func TestRealClientStreamCancelled(t *testing.T) {
	f := startRuntime(t, Options{})
	fifo := filepath.Join(t.TempDir(), "signal")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := f.s.Invoke(ctx, &Invocation{RequestID: "c", Payload: []byte(fmt.Sprintf(`{"op":"stream","signal":%q}`, fifo)), Deadline: time.Now().Add(time.Minute), StreamResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readUntil(resp.Body, "chunk1"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v", err)
	}
	resp.Body.Close()
	// The rest of the stream is drained, so the runtime finishes and takes the next call.
	openSignal(t, fifo)
	r2, body := f.invoke(t, &Invocation{RequestID: "d", Payload: []byte(`{"op":"echo"}`), Deadline: time.Now().Add(time.Minute)})
	if r2.ErrorType != "" || string(body) != `{"op":"echo"}` {
		t.Fatalf("after cancelled stream: %q %s", r2.ErrorType, body)
	}
}
