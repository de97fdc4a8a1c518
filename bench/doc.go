// Package bench measures lamb's invoke path against a baseline run in the same
// process, so that the figures are ratios on one machine rather than absolute
// numbers from different ones.
//
// # What is measured
//
//   - BenchmarkWarmInvoke: sequential warm invokes of one aws-lambda-go echo
//     bootstrap through lamb's whole path (HTTP Invoke API → engine → process
//     backend) and through AWS's Runtime Interface Emulator (RIE) run as a local
//     process, interleaved call by call. Reports p50/p99 of each and the ratio
//     lamb/RIE (goal ≤ 1.00). BenchmarkWarmInvokeLarge does the same with a
//     256 KiB event.
//   - BenchmarkWarmFloor: the same warm invokes interleaved with calls of the
//     same client to a loopback HTTP echo server built in the same run
//     (testdata/httpecho), the floor of any local invoke; the ratio is how many
//     HTTP exchanges a warm invoke costs (goal ≤ 2.5 at p50).
//   - BenchmarkThroughput: eight concurrent clients saturate the 0 ms Go echo,
//     then the loopback echo server under the same Go load generator, each
//     over -bench.window: invokes/s of each, their ratio (goal ≥ 0.5) and lamb's
//     own CPU time per invoke (utime+stime of the lamb process from
//     /proc/<pid>/stat, the bootstraps not counted).
//   - BenchmarkWarmMemory (and BenchmarkDockerWarmMemory): lamb's own bytes per
//     warm instance, on a lamb of its own run with GOGC=5 (so that its heap
//     in use is near its live heap): the growth of its RSS and of its Go heap
//     in use (go_memstats_heap_inuse_bytes from /metrics) from no instance of
//     a function to eight, per instance, median over -benchtime rounds (goal
//     ≤ 512 KiB).
//   - BenchmarkColdStart: the first Invoke of an instance-less function on the
//     process backend (Go and python), from the Invoke call to its response,
//     after an evict or on a freshly created function; the RIE's first invoke
//     of the same Go bootstrap is the baseline.
//   - BenchmarkScaleOut: throughput of a function that works 20 ms, with four
//     concurrent clients against one, over the same wall time (goal ≥ 3.5×).
//   - TestSoak (a test, in the default run for 40 s on the process backend;
//     LAMB_SOAK=10m for a long one, which adds Docker and Podman;
//     LAMB_SOAK_ENGINES=docker,podman or none picks the engines): sync clients
//     on several functions and a stream of Event invocations while instances
//     are killed behind lamb's back every second (a runtime process, or a
//     container through its engine), lamb itself is killed with SIGKILL and
//     restarted on its data dir every 10 s, and each container engine restarts
//     every 25 s. The engines are the soak's own (bench/soak_engines_test.go:
//     a dockerd and a Podman service with their own sockets, state and bridges,
//     the runtime images loaded from the default Docker engine), so restarting
//     them touches no other test; they need root. It prints, per backend, sync
//     calls answered, events accepted, run, lost (must be 0) and run twice,
//     what is left after the run (must be nothing) and lamb's RSS over time,
//     split into anonymous and file pages ("|" marks a restart of lamb).
//     LAMB_SOAK_PPROF=DIR builds lamb with -tags pprof and saves its heap
//     profile at each RSS sample (DIR/BACKEND-SECONDS.heap, for go tool
//     pprof), with Go's HeapInuse beside the RSS.
//   - BenchmarkSQSEventSource: SQS → lamb → a python function that only
//     notes each record (moto's server as the queue), messages/s at
//     BatchSize 10 against a plain SDK consumer of the same server
//     (lamb/baseline), and SendMessage → handler start latency, p50 and p99,
//     p50 as a multiple of the poll interval (goal ≤ 1.5). It needs python3
//     with moto[server] and runs alone:
//     `go test -run '^$' -bench SQSEventSource -benchtime 1x ./bench/`.
//   - BenchmarkHotReload (and BenchmarkDockerHotReload): a python function
//     whose code is a folder (S3Bucket hot-reload); from a save (two files
//     written) to the first answer of the saved code, p50 over -benchtime
//     saves (goal ≤ 300 ms on the process backend, ≤ 600 ms on Docker),
//     against the same function's cold start after an evict measured in the
//     same run and against the debounce interval (api.HotReloadDebounce);
//     invokes_per_save is 1 when the invoke right after each save ran the
//     saved code.
//
// # Running
//
// The benchmarks run only with -bench; the package's tests are fast unit tests
// and the soak.
// bench/run.sh builds lamb, the echo bootstrap and the RIE (pinned version,
// from the Go module proxy), runs everything and prints a table. Run alone,
// `go test -run '^$' -bench . ./bench/` builds what it misses itself; the
// environment variables LAMB_BENCH_LAMB, LAMB_BENCH_RIE, LAMB_BENCH_ECHO and
// LAMB_BENCH_HTTPECHO point it at prebuilt binaries instead.
//
// # Profiling
//
// A lamb built with -tags pprof serves net/http/pprof on LAMB_PPROF_ADDR
// (cmd/lamb/pprof.go); the harness passes its environment on, so
//
//	go build -tags pprof -o /tmp/lamb ./cmd/lamb
//	LAMB_BENCH_LAMB=/tmp/lamb LAMB_PPROF_ADDR=127.0.0.1:16060 \
//	  go test -run '^$' -bench '^BenchmarkThroughput$' -benchtime 5x ./bench/ &
//	curl -o cpu.pprof 'http://127.0.0.1:16060/debug/pprof/profile?seconds=10'
//
// profiles the warm path under load. The engine's and the API's shares of it
// have benchmarks of their own, without processes or network:
// BenchmarkInvokeWarm, BenchmarkPoolKey and BenchmarkPlatformLines in engine/,
// BenchmarkInvokeHandler in api/ (compare runs with benchstat).
package bench
