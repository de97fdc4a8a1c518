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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// BenchmarkProcessColdStart measures python and node cold starts on the
// process backend with pre-started runtimes (lamb serve --prestart, the
// default: forked python runtimes, spare node ones) and without
// (--prestart=false), each on a lamb of its own, against the bare
// interpreter start (`python3 -c pass`, `node -e 0`; the interpreter a
// python3 or node on PATH leads to, as lamb runs it) measured in the same
// run. Per iteration, server and runtime, two cold starts of an echo:
//   - evict: after POST /_lamb/functions/{name}/evict;
//   - update: after UpdateFunctionCode with new code (a new zip each time).
//
// Each reports the REPORT line's Init Duration (what the goal is about:
// from the start, or the claim, of the runtime to its first /next) and the
// client's wall time of the Invoke. Python's metrics have no prefix, node's
// "node_". Recommended: -benchtime=15x.
func BenchmarkProcessColdStart(b *testing.B) {
	base := setup(b)
	ctx := b.Context()
	pySrc, err := os.ReadFile(filepath.Join("testdata", "pyecho", "handler.py"))
	if err != nil {
		b.Fatal(err)
	}
	fns := []coldFn{
		{prefix: "", name: fnEchoPy, runtime: types.RuntimePython312, handler: "handler.handler", file: "handler.py", src: pySrc,
			exe: []string{"python3", "-c", "import sys; sys.stdout.write(sys.executable)"}, floor: []string{"-c", "pass"}},
		{prefix: "node_", name: fnEchoNode, runtime: types.RuntimeNodejs20x, handler: "index.handler", file: "index.mjs", src: []byte(nodeEcho),
			exe: []string{"node", "-p", "process.execPath"}, floor: []string{"-e", "0"}},
	}
	servers := map[string]*harness{}
	for _, mode := range []string{"prestart", "normal"} {
		h, err := startBenchLamb(ctx, base, mode, "--prestart="+strconv.FormatBool(mode == "prestart"))
		if err != nil {
			b.Fatal(err)
		}
		defer h.lamb.stop()
		for _, f := range fns {
			if err := f.create(ctx, h); err != nil {
				b.Fatal(err)
			}
			// The first invoke starts the pre-started runtime; let it come up.
			if _, _, err := coldInvoke(ctx, h, f.name); err != nil {
				b.Fatal(err)
			}
		}
		servers[mode] = h
	}
	time.Sleep(time.Second)
	// The floor is the interpreter lamb runs, not a wrapper (a pyenv shim)
	// that leads to it.
	for i := range fns {
		exe, err := exec.CommandContext(ctx, fns[i].exe[0], fns[i].exe[1:]...).Output()
		if err != nil {
			b.Fatalf("%s: %v", fns[i].exe[0], err)
		}
		fns[i].exe = []string{strings.TrimSpace(string(exe))}
	}

	got := map[string]*coldSeries{}
	floors := map[string]samples{}
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range fns {
			for _, mode := range []string{"prestart", "normal"} {
				h := servers[mode]
				if err := h.evict(ctx, f.name); err != nil {
					b.Fatal(err)
				}
				record(b, got, f.prefix+mode+"_evict", func() (time.Duration, time.Duration, error) { return coldInvoke(ctx, h, f.name) })

				if err := f.update(ctx, h, i); err != nil {
					b.Fatal(err)
				}
				record(b, got, f.prefix+mode+"_update", func() (time.Duration, time.Duration, error) { return coldInvoke(ctx, h, f.name) })
			}
			start := time.Now()
			if out, err := exec.CommandContext(ctx, f.exe[0], f.floor...).CombinedOutput(); err != nil {
				b.Fatalf("%s %v: %v\n%s", f.exe[0], f.floor, err, out)
			}
			floors[f.prefix] = append(floors[f.prefix], time.Since(start))
		}
	}
	for _, f := range fns {
		fl := millis(floors[f.prefix].percentile(50))
		b.ReportMetric(fl, f.prefix+"floor_p50_ms")
		for _, mode := range []string{"prestart", "normal"} {
			for _, kind := range []string{"_evict", "_update"} {
				name := f.prefix + mode + kind
				s := got[name]
				in, wall := millis(s.init.percentile(50)), millis(s.wall.percentile(50))
				b.ReportMetric(in, name+"_init_p50_ms")
				b.ReportMetric(wall, name+"_wall_p50_ms")
				b.ReportMetric(ratio(in, fl), name+"_ratio_init")
				b.ReportMetric(ratio(wall, fl), name+"_ratio_wall")
			}
		}
	}
}

// fnEchoNode is the node echo BenchmarkProcessColdStart creates.
const fnEchoNode = "bench-echo-node"

const nodeEcho = "// The benchmark's node function: returns its event unchanged.\nexport const handler = async (event) => event;\n"

// coldFn is one runtime's echo in BenchmarkProcessColdStart and the bare
// start of its interpreter.
type coldFn struct {
	prefix, name, handler, file string
	runtime                     types.Runtime
	src                         []byte
	exe                         []string // asks the interpreter for its path; then the path
	floor                       []string // the bare start's arguments
}

// zip is the function's code, made new by update n (none when n < 0).
func (f coldFn) zip(n int) ([]byte, error) {
	src := f.src
	if n >= 0 {
		comment := "//"
		if strings.HasSuffix(f.file, ".py") {
			comment = "#"
		}
		src = fmt.Appendf(append([]byte{}, src...), "%s update %d %d\n", comment, n, time.Now().UnixNano())
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(f.file)
	if err == nil {
		_, err = w.Write(src)
	}
	if err == nil {
		err = zw.Close()
	}
	return buf.Bytes(), err
}

// create creates the function on h (the python echo as the other benchmarks
// do) and waits until it is Active.
func (f coldFn) create(ctx context.Context, h *harness) error {
	if f.name == fnEchoPy {
		return h.createFunction(ctx, fnEchoPy, specs[fnEchoPy])
	}
	code, err := f.zip(-1)
	if err != nil {
		return err
	}
	if _, err := h.sdk.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(f.name), Runtime: f.runtime,
		Handler: aws.String(f.handler), Role: aws.String("arn:aws:iam::000000000000:role/bench"),
		Code: &types.FunctionCode{ZipFile: code}, Timeout: aws.Int32(30), MemorySize: aws.Int32(512)}); err != nil {
		return fmt.Errorf("create %s: %w", f.name, err)
	}
	w := lambda.NewFunctionActiveV2Waiter(h.sdk, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(f.name)}, readyLimit)
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

// update deploys the echo again with a comment that makes it new code, and
// waits until the update is done.
func (f coldFn) update(ctx context.Context, h *harness, n int) error {
	code, err := f.zip(n)
	if err != nil {
		return err
	}
	if _, err := h.sdk.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(f.name), ZipFile: code}); err != nil {
		return fmt.Errorf("update %s: %w", f.name, err)
	}
	wt := lambda.NewFunctionUpdatedV2Waiter(h.sdk, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	return wt.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(f.name)}, readyLimit)
}
