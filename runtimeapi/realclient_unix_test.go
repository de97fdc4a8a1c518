//go:build unix

package runtimeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
