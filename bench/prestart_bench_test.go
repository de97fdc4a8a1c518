package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// BenchmarkProcessColdStart measures python cold starts on the process
// backend with pre-started runtimes (lamb serve --prestart, the default) and
// without (--prestart=false), each on a lamb of its own, against the bare
// interpreter start (`python3 -c pass`, python3 being the interpreter
// a python3 on PATH leads to, as lamb runs it) measured in the same run. Per
// iteration and server, two cold starts of the python echo:
//   - evict: after POST /_lamb/functions/{name}/evict;
//   - update: after UpdateFunctionCode with new code (a new zip each time).
//
// Each reports the REPORT line's Init Duration (what the goal is about:
// from the start, or the claim, of the runtime to its first /next) and the
// client's wall time of the Invoke. Recommended: -benchtime=15x.
func BenchmarkProcessColdStart(b *testing.B) {
	base := setup(b)
	ctx := b.Context()
	servers := map[string]*harness{}
	for _, mode := range []string{"prestart", "normal"} {
		h, err := startBenchLamb(ctx, base, mode, "--prestart="+strconv.FormatBool(mode == "prestart"))
		if err != nil {
			b.Fatal(err)
		}
		defer h.lamb.stop()
		if err := h.createFunction(ctx, fnEchoPy, specs[fnEchoPy]); err != nil {
			b.Fatal(err)
		}
		// The first invoke starts the pre-started runtime; let it come up.
		if _, _, err := coldInvoke(ctx, h, fnEchoPy); err != nil {
			b.Fatal(err)
		}
		servers[mode] = h
	}
	time.Sleep(time.Second)
	// The floor is the interpreter lamb runs, not a wrapper (a pyenv shim)
	// that leads to it.
	exe, err := exec.CommandContext(ctx, "python3", "-c", "import sys; sys.stdout.write(sys.executable)").Output()
	if err != nil {
		b.Fatalf("python3: %v", err)
	}

	got := map[string]*coldSeries{}
	var floor samples
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, mode := range []string{"prestart", "normal"} {
			h := servers[mode]
			if err := h.evict(ctx, fnEchoPy); err != nil {
				b.Fatal(err)
			}
			record(b, got, mode+"_evict", func() (time.Duration, time.Duration, error) { return coldInvoke(ctx, h, fnEchoPy) })

			if err := updateCode(ctx, h, fnEchoPy, i); err != nil {
				b.Fatal(err)
			}
			record(b, got, mode+"_update", func() (time.Duration, time.Duration, error) { return coldInvoke(ctx, h, fnEchoPy) })
		}
		start := time.Now()
		if out, err := exec.CommandContext(ctx, string(exe), "-c", "pass").CombinedOutput(); err != nil {
			b.Fatalf("python3 -c pass: %v\n%s", err, out)
		}
		floor = append(floor, time.Since(start))
	}
	fl := millis(floor.percentile(50))
	b.ReportMetric(fl, "floor_p50_ms")
	for name, s := range got {
		in, wall := millis(s.init.percentile(50)), millis(s.wall.percentile(50))
		b.ReportMetric(in, name+"_init_p50_ms")
		b.ReportMetric(wall, name+"_wall_p50_ms")
		b.ReportMetric(ratio(in, fl), name+"_ratio_init")
		b.ReportMetric(ratio(wall, fl), name+"_ratio_wall")
	}
}

// coldSeries is one kind of cold start's samples.
type coldSeries struct{ init, wall samples }

// record adds one cold start's Init Duration and wall time to got[name].
func record(b *testing.B, got map[string]*coldSeries, name string, f func() (time.Duration, time.Duration, error)) {
	b.Helper()
	b.StartTimer()
	init, wall, err := f()
	b.StopTimer()
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	s := got[name]
	if s == nil {
		s = &coldSeries{}
		got[name] = s
	}
	s.init = append(s.init, init)
	s.wall = append(s.wall, wall)
}

// startBenchLamb starts another `lamb serve` on the process backend, with
// base's binaries and extra flags, and returns a harness for it.
func startBenchLamb(ctx context.Context, base *harness, name string, flags ...string) (*harness, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base.dir, "lamb-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	h := &harness{dir: dir, lambBin: base.lambBin, echoBin: base.echoBin, httpc: base.httpc,
		lambURL: "http://" + addr, created: map[string]bool{}}
	args := append([]string{"serve", "--ephemeral", "--backend", "process", "--addr", addr, "--max-instances", "10"}, flags...)
	if h.lamb, err = startProc(filepath.Join(dir, "lamb.log"), dir, nil, h.lambBin, args...); err != nil {
		return nil, err
	}
	if err := h.lamb.waitReady(ctx, func() bool { return httpOK(h.httpc, h.lambURL+"/_lamb/health") }); err != nil {
		h.lamb.stop()
		return nil, fmt.Errorf("lamb serve %s: %w", name, err)
	}
	h.sdk = h.newSDK()
	return h, nil
}

var initDurationRE = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// coldInvoke invokes name once, which must start an instance, and returns
// the Init Duration its REPORT line gives and the Invoke's wall time.
func coldInvoke(ctx context.Context, h *harness, name string) (init, wall time.Duration, err error) {
	start := time.Now()
	out, err := h.sdk.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: coldPayload, LogType: types.LogTypeTail})
	wall = time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("invoke %s: %w", name, err)
	}
	if out.FunctionError != nil {
		return 0, 0, fmt.Errorf("invoke %s: %w: %s: %s", name, errFunction, *out.FunctionError, out.Payload)
	}
	log, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	m := initDurationRE.FindSubmatch(log)
	if m == nil {
		return 0, 0, fmt.Errorf("invoke %s: not a cold start, no Init Duration in its log:\n%s", name, log)
	}
	ms, _ := strconv.ParseFloat(string(m[1]), 64)
	return time.Duration(ms * float64(time.Millisecond)), wall, nil
}

// updateCode deploys the python echo again with a comment that makes it new
// code, and waits until the update is done.
func updateCode(ctx context.Context, h *harness, name string, n int) error {
	src, err := os.ReadFile(filepath.Join("testdata", "pyecho", "handler.py"))
	if err != nil {
		return err
	}
	src = fmt.Appendf(src, "# update %d %d\n", n, time.Now().UnixNano())
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("handler.py")
	if err == nil {
		_, err = w.Write(src)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return err
	}
	if _, err := h.sdk.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: buf.Bytes()}); err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	wt := lambda.NewFunctionUpdatedV2Waiter(h.sdk, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	return wt.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, readyLimit)
}
