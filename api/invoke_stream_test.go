package api

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lambhq/lamb/internal/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/lambhq/lamb/engine"
	"github.com/lambhq/lamb/engine/backend/process"
)

// These tests run the whole path for real: aws-sdk-go-v2's event-stream
// client → api → engine → process backend → runtimeapi → our node bootstrap.

// streamingJS writes "first;", waits until the test says go (a file appears)
// or 5 s pass, then writes "second;". With {"fail":true} it throws after the
// first chunk; with {"http":true} it uses HttpResponseStream.from.
const streamingJS = `
const fs = require("node:fs");
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  if (event.http) {
    stream = awslambda.HttpResponseStream.from(stream, { statusCode: 201, headers: { "x-lamb": "yes" }, cookies: ["a=1"] });
  }
  stream.write("first;");
  const until = Date.now() + 5000;
  while (event.gate && !fs.existsSync(event.gate) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  if (event.fail) throw new Error("boom after first");
  stream.write("second;");
  stream.end();
});
`

const bufferedJS = `exports.handler = async (event) => ({ hello: "world", n: 42 });`

func needNode(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "node")
}

// newEngineHarness is newHarness with a real engine on the process backend.
func newEngineHarness(t *testing.T) *harness {
	t.Helper()
	b, err := process.New(process.Config{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(b)
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return newHarness(t, Config{Engine: e})
}

// streamClient is an SDK client that does not buffer responses (the harness's
// recorder reads bodies whole).
func (h *harness) streamClient() *lambda.Client {
	return lambda.New(lambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(h.ts.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(testAccount, "secret", ""),
		HTTPClient:       h.ts.Client(),
		RetryMaxAttempts: 1,
	})
}

// createNode creates a nodejs22.x function from index.js and waits until it is Active.
func (h *harness) createNode(name, js string) {
	h.t.Helper()
	ctx := context.Background()
	_, err := h.client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
		Role:    aws.String("arn:aws:iam::111111111111:role/r"),
		Code:    &types.FunctionCode{ZipFile: zipOf(h.t, map[string]string{"index.js": js})},
		Timeout: aws.Int32(10),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := h.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			h.t.Fatal(err)
		}
		if out.Configuration.State == types.StateActive {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("function %s not Active: %s", name, out.Configuration.State)
		}
		time.Sleep(10 * time.Millisecond) // polling the API's state with a deadline
	}
}

type streamEvent struct {
	chunk    string
	complete *types.InvokeWithResponseStreamCompleteEvent
}

// invokeStream calls InvokeWithResponseStream and delivers events on a channel
// as the SDK decodes them.
func (h *harness) invokeStream(ctx context.Context, name, payload string, tail bool) (<-chan streamEvent, <-chan error) {
	h.t.Helper()
	in := &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String(name), Payload: []byte(payload)}
	if tail {
		in.LogType = types.LogTypeTail
	}
	out, err := h.streamClient().InvokeWithResponseStream(ctx, in)
	if err != nil {
		h.t.Fatalf("InvokeWithResponseStream: %v", err)
	}
	if got := aws.ToString(out.ExecutedVersion); got != "$LATEST" {
		h.t.Errorf("ExecutedVersion %q", got)
	}
	if got := aws.ToString(out.ResponseStreamContentType); got != eventStreamContentType {
		h.t.Errorf("ResponseStreamContentType %q", got)
	}
	events := make(chan streamEvent, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(events)
		st := out.GetStream()
		defer st.Close()
		for ev := range st.Events() {
			switch e := ev.(type) {
			case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
				events <- streamEvent{chunk: string(e.Value.Payload)}
			case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
				c := e.Value
				events <- streamEvent{complete: &c}
			}
		}
		errc <- st.Err()
	}()
	return events, errc
}

func nextEvent(t *testing.T, events <-chan streamEvent) streamEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("stream ended early")
		}
		return ev
	case <-time.After(15 * time.Second):
		t.Fatal("no event within 15s")
	}
	return streamEvent{}
}

func TestInvokeWithResponseStreamDeliversChunksAsWritten(t *testing.T) {
	needNode(t)
	h := newEngineHarness(t)
	h.createNode("streamer", streamingJS)
	gate := t.TempDir() + "/go"
	ctx := context.Background()

	events, errc := h.invokeStream(ctx, "streamer", `{"gate":"`+gate+`"}`, true)
	// The function is blocked until the gate file exists, so receiving
	// "first;" now proves it was delivered before the function finished.
	if ev := nextEvent(t, events); ev.chunk != "first;" {
		t.Fatalf("first event %+v, want chunk first;", ev)
	}
	if err := writeFile(gate); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	var done *types.InvokeWithResponseStreamCompleteEvent
	for ev := range events {
		if ev.complete != nil {
			done = ev.complete
			continue
		}
		rest.WriteString(ev.chunk)
	}
	if err := <-errc; err != nil {
		t.Fatalf("stream error: %v", err)
	}
	if rest.String() != "second;" {
		t.Errorf("rest of stream %q", rest.String())
	}
	if done == nil {
		t.Fatal("no InvokeComplete event")
	}
	if done.ErrorCode != nil {
		t.Errorf("ErrorCode %q on success", *done.ErrorCode)
	}
	log, err := base64.StdEncoding.DecodeString(aws.ToString(done.LogResult))
	if err != nil || !strings.Contains(string(log), "REPORT RequestId:") {
		t.Errorf("LogResult %q (%v) lacks the REPORT line", log, err)
	}
}

func TestInvokeWithResponseStreamErrors(t *testing.T) {
	needNode(t)
	h := newEngineHarness(t)
	h.createNode("streamer", streamingJS)
	h.createNode("buffered", bufferedJS)
	ctx := context.Background()

	t.Run("error mid-stream ends with InvokeComplete ErrorCode", func(t *testing.T) {
		events, errc := h.invokeStream(ctx, "streamer", `{"fail":true}`, false)
		var chunks strings.Builder
		var done *types.InvokeWithResponseStreamCompleteEvent
		for ev := range events {
			if ev.complete != nil {
				done = ev.complete
			} else {
				chunks.WriteString(ev.chunk)
			}
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if chunks.String() != "first;" {
			t.Errorf("chunks %q, want first;", chunks.String())
		}
		if done == nil || aws.ToString(done.ErrorCode) != "Error" || aws.ToString(done.ErrorDetails) != "boom after first" {
			t.Errorf("InvokeComplete %+v, want ErrorCode Error, ErrorDetails boom after first", done)
		}
	})
	t.Run("buffered handler comes back as one chunk", func(t *testing.T) {
		events, errc := h.invokeStream(ctx, "buffered", `{}`, false)
		var got []streamEvent
		for ev := range events {
			got = append(got, ev)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].chunk != `{"hello":"world","n":42}` || got[1].complete == nil {
			t.Errorf("events %+v, want one chunk and InvokeComplete", got)
		}
	})
	t.Run("unknown function is a 404 before any stream", func(t *testing.T) {
		_, err := h.streamClient().InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("nope")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("error %v, want ResourceNotFoundException", err)
		}
	})
	t.Run("DryRun answers 204", func(t *testing.T) {
		rr := h.raw(http.MethodPost, "/2021-11-15/functions/streamer/response-streaming-invocations", "{}",
			withHeader(sigv4(testAccount, "us-east-1"), "X-Amz-Invocation-Type", "DryRun"))
		if rr.status != http.StatusNoContent {
			t.Errorf("status %d", rr.status)
		}
	})
	t.Run("Event is not a streaming invocation type", func(t *testing.T) {
		rr := h.raw(http.MethodPost, "/2021-11-15/functions/streamer/response-streaming-invocations", "{}",
			withHeader(sigv4(testAccount, "us-east-1"), "X-Amz-Invocation-Type", "Event"))
		if rr.status != http.StatusBadRequest || rr.header.Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Errorf("status %d %s: %s", rr.status, rr.header.Get("X-Amzn-ErrorType"), rr.body)
		}
	})
}

func writeFile(path string) error { return os.WriteFile(path, []byte("go"), 0o644) }

func withHeader(h map[string]string, k, v string) map[string]string { h[k] = v; return h }
