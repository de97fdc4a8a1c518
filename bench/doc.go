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
// environment variables LAMB_BENCH_LAMB, LAMB_BENCH_RIE and LAMB_BENCH_ECHO
// point it at prebuilt binaries instead.
package bench
