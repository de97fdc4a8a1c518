package bench

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// warmPayload is the event of the warm and scale-out benchmarks (about 100
// bytes), compact so that the Go echo returns it byte for byte.
var warmPayload = compactJSON(`{"bench":"warm","n":1234567890,"items":["a","b","c"],"nested":{"ok":true,"s":"wörld"}}`)

const warmups = 200

// BenchmarkWarmInvoke runs b.N sequential invokes on lamb (HTTP Invoke API →
// engine → process backend) and b.N on AWS's RIE run as a local process, both
// on the same aws-lambda-go echo bootstrap with the same payload and HTTP
// client. The calls are interleaved, each iteration alternating which side goes
// first, so that drift in the machine's load hits both alike. Recommended:
// -benchtime=2000x. ns/op covers one call to each.
func BenchmarkWarmInvoke(b *testing.B) { benchWarm(b, warmPayload) }

// BenchmarkWarmInvokeLarge is BenchmarkWarmInvoke with a 256 KiB event, where
// copying the payload through each layer shows. Recommended: -benchtime=500x.
func BenchmarkWarmInvokeLarge(b *testing.B) {
	benchWarm(b, compactJSON(`{"blob":"`+strings.Repeat("x", 256<<10)+`"}`))
}

func benchWarm(b *testing.B, payload []byte) {
	h := setup(b)
	ctx := b.Context()
	lambURL, err := h.ensureFunction(ctx, fnEchoGo)
	if err != nil {
		b.Fatal(err)
	}
	rieURL, err := h.warmRIE(ctx)
	if err != nil {
		b.Fatal(err)
	}
	lat := benchInterleaved(b, h.httpc, []string{lambURL, rieURL}, payload, b.Fatalf)
	reportWarm(b, lat[0], lat[1])
}

// benchInterleaved warms up on each of urls (warmups rounds), then invokes
// each once per iteration with payload, each iteration starting with another
// one, so that drift in the machine's load hits all alike; it returns the
// latencies per url. fatalf fails the benchmark.
func benchInterleaved(b *testing.B, httpc *http.Client, urls []string, payload []byte, fatalf func(format string, args ...any)) []samples {
	ctx := b.Context()
	for range warmups {
		for _, u := range urls {
			if err := invoke(ctx, httpc, u, payload); err != nil {
				fatalf("warm-up %s: %v", u, err)
			}
		}
	}
	b.SetBytes(int64(len(urls) * len(payload)))
	lat := make([]samples, len(urls))
	i := 0
	for b.Loop() {
		for k := range urls {
			side := (i + k) % len(urls)
			start := time.Now()
			if err := invoke(ctx, httpc, urls[side], payload); err != nil {
				fatalf("invoke %s: %v", urls[side], err)
			}
			lat[side] = append(lat[side], time.Since(start))
		}
		i++
	}
	return lat
}

// reportWarm reports the p50 and p99 latencies of lamb and of the RIE (the
// baseline) in µs, and lamb's ratio to the RIE at each.
func reportWarm(b *testing.B, lamb, rie samples) {
	for _, p := range []float64{50, 99} {
		l, r := micros(lamb.percentile(p)), micros(rie.percentile(p))
		b.ReportMetric(l, fmt.Sprintf("lamb_p%g_us", p))
		b.ReportMetric(r, fmt.Sprintf("rie_p%g_us", p))
		b.ReportMetric(ratio(l, r), fmt.Sprintf("ratio_p%g", p))
	}
}

// BenchmarkColdStart times the first Invoke of a function with no instance
// on the process backend, from the Invoke call to its response (the setup of
// each sample is outside the timer). Per iteration and runtime:
//   - lamb: the function's instances are evicted first (POST /_lamb/functions/{name}/evict);
//   - lamb_new: a function created just now (its code never run before), deleted afterwards;
//   - rie (Go only, the baseline): a fresh RIE process, already listening, gets
//     its first invoke, so it too starts the bootstrap and waits for its init;
//   - floor (python only, no RIE can run lamb's python bootstrap): the
//     interpreter's own start-up, `python3 -c pass`, which no backend can beat.
//
// Recommended: -benchtime=15x.
func BenchmarkColdStart(b *testing.B) {
	b.Run("go", func(b *testing.B) { benchCold(b, fnEchoGo, true) })
	b.Run("python", func(b *testing.B) { benchCold(b, fnEchoPy, false) })
}

func benchCold(b *testing.B, fn string, withRIE bool) {
	python := !withRIE
	h := setup(b)
	ctx := b.Context()
	url, err := h.ensureFunction(ctx, fn)
	if err != nil {
		b.Fatal(err)
	}
	timed := func(url string) time.Duration { return timedColdInvoke(b, h.httpc, url, b.Fatalf) }
	var lamb, lambNew, rie, floor samples
	b.StopTimer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.evict(ctx, fn); err != nil {
			b.Fatal(err)
		}
		// The sample is only a cold start if nothing of the function is left.
		if n, err := h.instances(ctx, fn); err != nil || n != 0 {
			b.Fatalf("after evict: %d instances of %s (%v)", n, fn, err)
		}
		lamb = append(lamb, timed(url))

		name, err := h.freshFunction(ctx, fn)
		if err != nil {
			b.Fatal(err)
		}
		lambNew = append(lambNew, timed(h.invokeURL(name)))
		if err := h.deleteFunction(ctx, name); err != nil {
			b.Fatal(err)
		}

		if withRIE {
			p, rieURL, err := h.startRIE(ctx, "rie-cold.log")
			if err != nil {
				b.Fatal(err)
			}
			rie = append(rie, timed(rieURL))
			p.stop()
		}
		if python {
			start := time.Now()
			if out, err := exec.CommandContext(ctx, "python3", "-c", "pass").CombinedOutput(); err != nil {
				b.Fatalf("python3 -c pass: %v\n%s", err, out)
			}
			floor = append(floor, time.Since(start))
		}
	}
	b.ReportMetric(millis(lamb.percentile(50)), "lamb_p50_ms")
	b.ReportMetric(millis(lambNew.percentile(50)), "lamb_new_p50_ms")
	if withRIE {
		b.ReportMetric(millis(rie.percentile(50)), "rie_p50_ms")
		b.ReportMetric(ratio(millis(lamb.percentile(50)), millis(rie.percentile(50))), "ratio_p50")
	}
	if python {
		b.ReportMetric(millis(floor.percentile(50)), "floor_p50_ms")
		b.ReportMetric(ratio(millis(lamb.percentile(50)), millis(floor.percentile(50))), "ratio_p50")
	}
}

// timedColdInvoke invokes url once with the benchmark timer on (it is off
// otherwise) and returns how long the call took; fatalf fails the benchmark.
func timedColdInvoke(b *testing.B, httpc *http.Client, url string, fatalf func(format string, args ...any)) time.Duration {
	b.StartTimer()
	start := time.Now()
	err := invoke(b.Context(), httpc, url, coldPayload)
	d := time.Since(start)
	b.StopTimer()
	if err != nil {
		fatalf("cold invoke %s: %v", url, err)
	}
	return d
}

// coldPayload is the event of the cold-start benchmarks.
var coldPayload = compactJSON(`{"bench":"cold"}`)

// BenchmarkScaleOut measures the throughput of a function that works 20 ms
// (the Go echo with ECHO_SLEEP_MS=20) with one client, then with four
// concurrent clients, over the same wall time each (-bench.window, default
// 2s), after warming four instances. The ratio is the scale-out factor (4 is
// perfect). Recommended: -benchtime=1x.
func BenchmarkScaleOut(b *testing.B) {
	h := setup(b)
	url, err := h.ensureFunction(b.Context(), fnSleepGo)
	if err != nil {
		b.Fatal(err)
	}
	benchScaleOut(b, h, url, b.Fatalf)
}

// benchScaleOut warms four instances of the function at url, then measures
// its throughput with one client and with four concurrent clients over
// -bench.window each, and reports both and their ratio. fatalf fails the
// benchmark.
func benchScaleOut(b *testing.B, h *harness, url string, fatalf func(format string, args ...any)) {
	ctx := b.Context()
	// Four concurrent calls at once make the engine start four instances.
	for range 3 {
		if _, err := throughput(ctx, h, url, 4, 0); err != nil {
			fatalf("warm-up: %v", err)
		}
	}
	var one, four int64
	var wall time.Duration
	for b.Loop() {
		n1, err := throughput(ctx, h, url, 1, *scaleWindow)
		if err != nil {
			fatalf("%v", err)
		}
		n4, err := throughput(ctx, h, url, 4, *scaleWindow)
		if err != nil {
			fatalf("%v", err)
		}
		one, four, wall = one+n1, four+n4, wall+*scaleWindow
	}
	b.ReportMetric(float64(one)/wall.Seconds(), "c1_per_s")
	b.ReportMetric(float64(four)/wall.Seconds(), "c4_per_s")
	b.ReportMetric(ratio(float64(four), float64(one)), "ratio_c4_c1")
}

// throughput runs clients concurrent loops of invokes for window and counts
// the invokes that completed within it. With window 0 each client makes
// exactly one call.
func throughput(ctx context.Context, h *harness, url string, clients int, window time.Duration) (int64, error) {
	var done atomic.Int64
	end := time.Now().Add(window)
	g, ctx := errgroup.WithContext(ctx)
	for range clients {
		g.Go(func() error {
			for {
				if err := invoke(ctx, h.httpc, url, warmPayload); err != nil {
					return err
				}
				if window == 0 {
					done.Add(1)
					return nil
				}
				if time.Now().After(end) {
					return nil // finished after the window: not counted
				}
				done.Add(1)
			}
		})
	}
	err := g.Wait()
	return done.Load(), err
}
