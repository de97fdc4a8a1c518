package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambhq/lamb/api"
)

// Hot reload: a python function whose code is a folder (S3Bucket
// hot-reload). Each iteration saves the folder (two files, as an editor
// saving a module and its helper) and invokes until the answer is the saved
// code's; the sample is the time from the first write to that answer. The
// baseline, measured in the same run, is the cold start of the same function
// after an evict: the least any way of running new code costs. The figures are
// also shown against the debounce interval (api.HotReloadDebounce), which a
// save waits out by design. Goals: p50 ≤ 300 ms on the process backend,
// ≤ 600 ms on Docker. Recommended: -benchtime=20x.

// hotReloadFolder makes a folder every user can read (functions run as
// their account's uid as root, and as the sandbox user in containers).
func hotReloadFolder(b *testing.B) string {
	b.Helper()
	dir, err := os.MkdirTemp("", "lamb-bench-hot-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// saveHot writes the function's two files for version v.
func saveHot(dir, v string) error {
	if err := os.WriteFile(filepath.Join(dir, "helper.py"), []byte("V = '"+v+"'\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "handler.py"),
		[]byte("import helper\n\ndef handler(event, context):\n    return helper.V\n"), 0o644)
}

// invokeBody invokes url and returns the answer's body.
func invokeBody(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("invoke: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return "", fmt.Errorf("invoke: %s %s: %.300s", resp.Status, resp.Header.Get("X-Amz-Function-Error"), body)
	}
	return string(body), nil
}

func BenchmarkHotReload(b *testing.B) { benchHotReload(b, setup(b)) }

func BenchmarkDockerHotReload(b *testing.B) {
	d := setupDocker(b)
	benchHotReload(b, d.harness)
}

func benchHotReload(b *testing.B, h *harness) {
	ctx := b.Context()
	dir := hotReloadFolder(b)
	if err := saveHot(dir, "v0"); err != nil {
		b.Fatal(err)
	}
	h.mu.Lock()
	h.seq++
	name := fmt.Sprintf("bench-hot-%d", h.seq)
	h.mu.Unlock()
	if _, err := h.sdk.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String("handler.handler"),
		Role:    aws.String("arn:aws:iam::000000000000:role/bench"),
		Code:    &types.FunctionCode{S3Bucket: aws.String("hot-reload"), S3Key: aws.String(dir)},
		Timeout: aws.Int32(30), MemorySize: aws.Int32(512),
	}); err != nil {
		b.Fatalf("create %s: %v", name, err)
	}
	w := lambda.NewFunctionActiveV2Waiter(h.sdk, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, readyLimit); err != nil {
		b.Fatalf("wait for %s: %v", name, err)
	}
	url := h.invokeURL(name)
	if got, err := invokeBody(ctx, h.httpc, url); err != nil || got != `"v0"` {
		b.Fatalf("first invoke: %s %v", got, err)
	}
	var reload, cold samples
	var invokes int
	i := 0
	for b.Loop() {
		i++
		v := fmt.Sprintf("v%d", i)
		start := time.Now()
		if err := saveHot(dir, v); err != nil {
			b.Fatal(err)
		}
		for {
			invokes++
			got, err := invokeBody(ctx, h.httpc, url)
			if err != nil {
				b.Fatal(err)
			}
			if got == `"`+v+`"` {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("10 s after saving %s the function answers %s", v, got)
			}
		}
		reload = append(reload, time.Since(start))

		b.StopTimer()
		// Baseline: the same function's cold start after an evict.
		if err := h.evict(ctx, name); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if got, err := invokeBody(ctx, h.httpc, url); err != nil || got != `"`+v+`"` {
			b.Fatalf("cold invoke: %s %v", got, err)
		}
		cold = append(cold, time.Since(start))
		b.StartTimer()
	}
	if err := h.deleteFunction(ctx, name); err != nil {
		b.Fatal(err)
	}
	p50 := millis(reload.percentile(50))
	b.ReportMetric(p50, "lamb_p50_ms")
	b.ReportMetric(millis(reload.percentile(90)), "lamb_p90_ms")
	b.ReportMetric(millis(cold.percentile(50)), "cold_p50_ms")
	b.ReportMetric(ratio(p50, millis(cold.percentile(50))), "ratio_cold_p50")
	b.ReportMetric(millis(api.HotReloadDebounce), "debounce_ms")
	b.ReportMetric(ratio(p50, millis(api.HotReloadDebounce)), "ratio_debounce_p50")
	b.ReportMetric(float64(invokes)/float64(len(reload)), "invokes_per_save")
}
