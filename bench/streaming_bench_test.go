package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Time to first byte of a streamed response, measured at the client, for a
// node function that writes a chunk, sleeps 1 s and writes another; through
// InvokeWithResponseStream and through a RESPONSE_STREAM function URL on the
// process backend. The first chunk carries the function's own clock at the
// write (performance.timeOrigin + performance.now(), ms since the epoch), so
// "write→client" is the delay the chunk spent in lamb (runtime → Runtime API
// → engine → API → client). Goals: write→client ≤ 10 ms, first chunk < 0.4 s
// after the call. Run with -benchtime=5x: every iteration lasts over a second.

const fnStreamNode = "bench-stream-node"

const streamBenchJS = `
exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  stream.write(String(performance.timeOrigin + performance.now()) + ";");
  await new Promise((r) => setTimeout(r, 1000));
  stream.write("end;");
  stream.end();
});
`

// streamFunction creates the streaming function and its RESPONSE_STREAM URL
// once; it returns the url-id.
func (h *harness) streamFunction(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.created[fnStreamNode] {
		zip, err := zipFiles(map[string]string{"index.js": streamBenchJS})
		if err != nil {
			return "", err
		}
		if _, err := h.sdk.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(fnStreamNode), Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
			Role: aws.String("arn:aws:iam::000000000000:role/bench"), Code: &types.FunctionCode{ZipFile: zip},
			Timeout: aws.Int32(30), MemorySize: aws.Int32(512),
		}); err != nil {
			return "", fmt.Errorf("create %s: %w", fnStreamNode, err)
		}
		w := lambda.NewFunctionActiveV2Waiter(h.sdk, func(o *lambda.FunctionActiveV2WaiterOptions) {
			o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
		})
		if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnStreamNode)}, readyLimit); err != nil {
			return "", err
		}
		if _, err := h.sdk.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{
			FunctionName: aws.String(fnStreamNode), AuthType: types.FunctionUrlAuthTypeNone, InvokeMode: types.InvokeModeResponseStream,
		}); err != nil {
			return "", fmt.Errorf("create url: %w", err)
		}
		// Anyone may call a NONE URL only with these two grants (AWS since
		// October 2025, docs.aws.amazon.com/lambda/latest/dg/urls-auth.html).
		for _, p := range []*lambda.AddPermissionInput{
			{FunctionName: aws.String(fnStreamNode), StatementId: aws.String("public-url"), Action: aws.String("lambda:InvokeFunctionUrl"),
				Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone},
			{FunctionName: aws.String(fnStreamNode), StatementId: aws.String("public-invoke"), Action: aws.String("lambda:InvokeFunction"),
				Principal: aws.String("*"), InvokedViaFunctionUrl: aws.Bool(true)},
		} {
			if _, err := h.sdk.AddPermission(ctx, p); err != nil {
				return "", fmt.Errorf("allow public url: %w", err)
			}
		}
		h.created[fnStreamNode] = true
	}
	cfg, err := h.sdk.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(fnStreamNode)})
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(aws.ToString(cfg.FunctionUrl), "http://"), ".")
	return id, nil
}

// streamSample is one call: time from the call to the first chunk, and from
// the function's write of it to its arrival.
type streamSample struct {
	firstChunk, writeToClient, total time.Duration
}

// writeDelay parses the function's timestamp at the start of the first chunk.
func writeDelay(chunk string, arrived time.Time) (time.Duration, error) {
	ts, _, _ := strings.Cut(chunk, ";")
	ms, err := strconv.ParseFloat(ts, 64)
	if err != nil {
		return 0, fmt.Errorf("first chunk %q: %w", chunk, err)
	}
	wrote := time.UnixMicro(int64(math.Round(ms * 1000)))
	return arrived.Sub(wrote), nil
}

func (h *harness) streamViaAPI(ctx context.Context) (streamSample, error) {
	start := time.Now()
	out, err := h.sdk.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String(fnStreamNode)})
	if err != nil {
		return streamSample{}, err
	}
	st := out.GetStream()
	defer st.Close()
	var s streamSample
	var body strings.Builder
	for ev := range st.Events() {
		if c, ok := ev.(*types.InvokeWithResponseStreamResponseEventMemberPayloadChunk); ok {
			if body.Len() == 0 {
				now := time.Now()
				s.firstChunk = now.Sub(start)
				if s.writeToClient, err = writeDelay(string(c.Value.Payload), now); err != nil {
					return s, err
				}
			}
			body.Write(c.Value.Payload)
		}
	}
	s.total = time.Since(start)
	if err := st.Err(); err != nil {
		return s, err
	}
	if !strings.HasSuffix(body.String(), "end;") {
		return s, fmt.Errorf("stream %q", body.String())
	}
	return s, nil
}

func (h *harness) streamViaURL(ctx context.Context, id string) (streamSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.lambURL+"/", nil)
	if err != nil {
		return streamSample{}, err
	}
	req.Host = id + ".lambda-url.us-east-1.localhost"
	start := time.Now()
	resp, err := h.httpc.Do(req)
	if err != nil {
		return streamSample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return streamSample{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	var s streamSample
	buf := make([]byte, 256)
	n, err := resp.Body.Read(buf)
	if n == 0 {
		return s, fmt.Errorf("first read: %w", err)
	}
	now := time.Now()
	s.firstChunk = now.Sub(start)
	if s.writeToClient, err = writeDelay(string(buf[:n]), now); err != nil {
		return s, err
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		return s, err
	}
	s.total = time.Since(start)
	if !strings.HasSuffix(string(buf[:n])+string(rest), "end;") {
		return s, fmt.Errorf("body %q", string(buf[:n])+string(rest))
	}
	return s, nil
}

func BenchmarkStreamFirstChunk(b *testing.B) {
	h := setup(b)
	ctx := context.Background()
	id, err := h.streamFunction(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		call func() (streamSample, error)
	}{
		{"InvokeWithResponseStream", func() (streamSample, error) { return h.streamViaAPI(ctx) }},
		{"FunctionURL", func() (streamSample, error) { return h.streamViaURL(ctx, id) }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			// One call outside the measurement warms an instance.
			if _, err := mode.call(); err != nil {
				b.Fatal(err)
			}
			var first, delay samples
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := mode.call()
				if err != nil {
					b.Fatal(err)
				}
				first = append(first, s.firstChunk)
				delay = append(delay, s.writeToClient)
			}
			b.StopTimer()
			b.ReportMetric(millis(first.percentile(50)), "ms-first-chunk-p50")
			b.ReportMetric(millis(first.percentile(99)), "ms-first-chunk-p99")
			b.ReportMetric(millis(delay.percentile(50)), "ms-write-to-client-p50")
			b.ReportMetric(millis(delay.percentile(99)), "ms-write-to-client-p99")
		})
	}
}

// zipFiles builds a zip of text files for a function's code.
func zipFiles(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(w, body); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
