package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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
