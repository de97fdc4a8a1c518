package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"testing"
)

// throughputClients is the number of concurrent clients of BenchmarkThroughput.
// Eight saturates lamb on a 2-core machine (each client has one call in
// flight) without more instances than --max-instances allows.
const throughputClients = 8

// memInstances is how many warm instances BenchmarkWarmMemory starts.
const memInstances = 8

// BenchmarkWarmFloor compares lamb's warm invoke with the floor: the same
// client's call to a loopback HTTP echo server (testdata/httpecho, built in
// the same run), interleaved call by call as in BenchmarkWarmInvoke. The
// ratio is how many HTTP exchanges a warm invoke costs (goal ≤ 2.5 at p50).
// Recommended: -benchtime=2000x.
func BenchmarkWarmFloor(b *testing.B) {
	h := setup(b)
	ctx := b.Context()
	lambURL, err := h.ensureFunction(ctx, fnEchoGo)
	if err != nil {
		b.Fatal(err)
	}
	echoURL, err := h.httpEcho(ctx)
	if err != nil {
		b.Fatal(err)
	}
	lat := benchInterleaved(b, h.httpc, []string{lambURL, echoURL}, warmPayload, b.Fatalf)
	for _, p := range []float64{50, 99} {
		l, e := micros(lat[0].percentile(p)), micros(lat[1].percentile(p))
		b.ReportMetric(l, fmt.Sprintf("lamb_p%g_us", p))
		b.ReportMetric(e, fmt.Sprintf("echo_p%g_us", p))
		b.ReportMetric(ratio(l, e), fmt.Sprintf("ratio_p%g", p))
	}
}

// BenchmarkThroughput saturates a 0 ms function (the Go echo) with
// throughputClients concurrent clients over -bench.window, then the loopback
// echo server with the same load generator over the same window, and reports
// both rates, their ratio (goal ≥ 0.5) and lamb's own CPU time per invoke
// (utime+stime of the lamb process, not of the bootstraps it runs).
// Recommended: -benchtime=1x.
func BenchmarkThroughput(b *testing.B) {
	h := setup(b)
	ctx := b.Context()
	url, err := h.ensureFunction(ctx, fnEchoGo)
	if err != nil {
		b.Fatal(err)
	}
	echoURL, err := h.httpEcho(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// Concurrent calls at once make the engine start an instance per client.
	for range 3 {
		if _, err := throughput(ctx, h, url, throughputClients, 0); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
	pid := h.lamb.cmd.Process.Pid
	var lamb, echo int64
	var cpu, wall time.Duration
	for b.Loop() {
		before, err := procCPU(pid)
		if err != nil {
			b.Fatal(err)
		}
		n, err := throughput(ctx, h, url, throughputClients, *scaleWindow)
		if err != nil {
			b.Fatal(err)
		}
		after, err := procCPU(pid)
		if err != nil {
			b.Fatal(err)
		}
		ne, err := throughput(ctx, h, echoURL, throughputClients, *scaleWindow)
		if err != nil {
			b.Fatal(err)
		}
		lamb, echo, cpu, wall = lamb+n, echo+ne, cpu+after-before, wall+*scaleWindow
	}
	b.ReportMetric(float64(lamb)/wall.Seconds(), "lamb_per_s")
	b.ReportMetric(float64(echo)/wall.Seconds(), "echo_per_s")
	b.ReportMetric(ratio(float64(lamb), float64(echo)), "ratio")
	if lamb > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(lamb), "lamb_cpu_us_per_invoke")
	}
}

// BenchmarkWarmMemory reports lamb's own memory per warm instance on the
// process backend: the growth of the lamb process's resident set (VmRSS) from
// none of the function's instances to memInstances of them, divided by the
// instances counted, and likewise of its Go heap in use (from /metrics); the
// median over the iterations. The instances' own processes are not counted (nor, on
// Docker, the containers). RSS includes what Go's heap has not returned, so
// it is an upper bound of lamb's cost. Recommended: -benchtime=5x.
func BenchmarkWarmMemory(b *testing.B) {
	h := setup(b)
	benchWarmMemory(b, h, b.Fatalf)
}

// BenchmarkDockerWarmMemory is BenchmarkWarmMemory on the Docker backend.
// Recommended: -benchtime=3x.
func BenchmarkDockerWarmMemory(b *testing.B) {
	d := setupDocker(b)
	benchWarmMemory(b, d.harness, func(format string, args ...any) { d.fatalf(b, format, args...) })
}

// benchWarmMemory is BenchmarkWarmMemory on h's lamb; fatalf fails the
// benchmark.
func benchWarmMemory(b *testing.B, shared *harness, fatalf func(format string, args ...any)) {
	ctx := b.Context()
	// A lamb of its own that collects garbage often (GOGC=5), so that the
	// heap in use is close to the live heap: what the instances cost, not
	// what the invokes left behind.
	h, err := shared.sibling(ctx, "lamb-mem.log", "GOGC=5")
	if err != nil {
		fatalf("%v", err)
	}
	defer h.lamb.stop()
	// The 20 ms function: memInstances concurrent calls overlap, so each
	// gets its own instance.
	url, err := h.ensureFunction(ctx, fnSleepGo)
	if err != nil {
		fatalf("%v", err)
	}
	pid := h.lamb.cmd.Process.Pid
	var rss, heap []float64
	for b.Loop() {
		if err := h.evict(ctx, fnSleepGo); err != nil {
			fatalf("%v", err)
		}
		// A first round and an evict, so that what lamb allocates once (the
		// function's code, its pool) is in the baseline.
		if _, err := throughput(ctx, h, url, 1, 0); err != nil {
			fatalf("%v", err)
		}
		if err := h.evict(ctx, fnSleepGo); err != nil {
			fatalf("%v", err)
		}
		rss0, err := procRSS(pid)
		if err != nil {
			fatalf("%v", err)
		}
		heap0, err := h.heapInuse(ctx)
		if err != nil {
			fatalf("%v", err)
		}
		for range 3 {
			if _, err := throughput(ctx, h, url, memInstances, 0); err != nil {
				fatalf("%v", err)
			}
		}
		n, err := h.instances(ctx, fnSleepGo)
		if err != nil {
			fatalf("%v", err)
		}
		rss1, err := procRSS(pid)
		if err != nil {
			fatalf("%v", err)
		}
		heap1, err := h.heapInuse(ctx)
		if err != nil {
			fatalf("%v", err)
		}
		if n == 0 {
			fatalf("no warm instances of %s", fnSleepGo)
		}
		rss = append(rss, float64(rss1-rss0)/float64(n))
		heap = append(heap, float64(heap1-heap0)/float64(n))
		b.ReportMetric(float64(n), "instances")
	}
	b.ReportMetric(median(rss)/1024, "lamb_rss_kib_per_instance")
	b.ReportMetric(median(heap)/1024, "lamb_heap_kib_per_instance")
	if err := h.evict(ctx, fnSleepGo); err != nil {
		fatalf("%v", err)
	}
}

// sibling starts another lamb like h's (same binary and flags, another
// address) with env added, and returns a harness on it that shares h's
// binaries and client. The caller stops its lamb.
func (h *harness) sibling(ctx context.Context, logName string, env ...string) (*harness, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := slices.Clone(h.lamb.cmd.Args[1:])
	for i := range args {
		if args[i] == "--addr" && i+1 < len(args) {
			args[i+1] = addr
		}
	}
	s := &harness{dir: h.dir, lambBin: h.lambBin, rieBin: h.rieBin, echoBin: h.echoBin, httpc: h.httpc,
		lambURL: "http://" + addr, created: map[string]bool{}}
	if s.lamb, err = startProc(filepath.Join(h.dir, logName), h.dir, env, h.lambBin, args...); err != nil {
		return nil, err
	}
	if err := s.lamb.waitReady(ctx, func() bool { return httpOK(s.httpc, s.lambURL+"/_lamb/health") }); err != nil {
		s.lamb.stop()
		return nil, fmt.Errorf("lamb serve (%s): %w", logName, err)
	}
	s.sdk = s.newSDK()
	return s, nil
}

// median of xs (not empty); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// heapInuse is lamb's go_memstats_heap_inuse_bytes from its /metrics.
func (h *harness) heapInuse(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.lambURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := h.httpc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("metrics: %w", err)
			}
			return int64(v), nil
		}
	}
	return 0, fmt.Errorf("metrics: no go_memstats_heap_inuse_bytes (%s)", resp.Status)
}

// httpEcho returns the URL of the loopback echo server, starting it on first
// use (stopped by close).
func (h *harness) httpEcho(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.echoSrv != nil {
		return h.echoSrvURL, nil
	}
	bin, err := binary(ctx, "LAMB_BENCH_HTTPECHO", filepath.Join(h.dir, "httpecho"), nil,
		"go", "build", "-o", filepath.Join(h.dir, "httpecho"), "./testdata/httpecho")
	if err != nil {
		return "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	p, err := startProc(filepath.Join(h.dir, "httpecho.log"), h.dir, nil, bin, addr)
	if err != nil {
		return "", err
	}
	if err := p.waitReady(ctx, func() bool { return canDial(addr) }); err != nil {
		p.stop()
		return "", fmt.Errorf("httpecho: %w", err)
	}
	h.echoSrv, h.echoSrvURL = p, "http://"+addr+"/echo"
	return h.echoSrvURL, nil
}

// clockTick is the unit of /proc/<pid>/stat's times: USER_HZ, 100 on Linux.
const clockTick = 10 * time.Millisecond

// procCPU is the user+system CPU time a process used so far.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	// Fields start after the command's closing parenthesis; utime and
	// stime are fields 14 and 15.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("cpu time: short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// procRSS is a process's resident set in bytes (VmRSS).
func procRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("rss: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("rss: no VmRSS in /proc/%d/status", pid)
}
