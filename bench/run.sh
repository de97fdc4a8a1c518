#!/usr/bin/env bash
# Runs lamb's invoke-path benchmarks and prints a table of the figures and
# their ratios against the baselines measured in the same run.
#
#   bench/run.sh                 # everything, default sample counts
#   WARM_N=5000 LARGE_N=1000 COLD_N=30 HOT_N=20 WINDOW=5s bench/run.sh
#   BENCH=Warm bench/run.sh      # only benchmarks matching a -bench regexp
#
# It builds lamb, the aws-lambda-go echo bootstrap and AWS's Runtime Interface
# Emulator (from the Go module proxy, pinned below; no binaries are committed)
# into a temporary directory (or $BENCH_BIN, kept for reuse), then runs
# `go test -bench` on ./bench/ with the binaries passed in.
set -euo pipefail

# Keep in step with rieVersion in harness_test.go (a test checks it).
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
RIE_PKG=github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

WARM_N=${WARM_N:-2000}
LARGE_N=${LARGE_N:-500}
COLD_N=${COLD_N:-15}
HOT_N=${HOT_N:-20}
WINDOW=${WINDOW:-2s}
MEM_N=${MEM_N:-5}
BENCH=${BENCH:-.}

cd "$(dirname "$0")/.."
if [[ -n "${BENCH_BIN:-}" ]]; then
	bin=$BENCH_BIN
	mkdir -p "$bin"
else
	bin=$(mktemp -d -t lamb-bench-bin.XXXXXX)
fi
out=$(mktemp -t lamb-bench-out.XXXXXX)
trap 'rm -f "$out"; [[ -n "${BENCH_BIN:-}" ]] || rm -rf "$bin"' EXIT

echo "building into $bin ..." >&2
go build -o "$bin/lamb" ./cmd/lamb
CGO_ENABLED=0 go build -o "$bin/echo" ./bench/testdata/echo
go build -o "$bin/httpecho" ./bench/testdata/httpecho
[[ -x "$bin/aws-lambda-rie" ]] || GOBIN="$bin" go install "$RIE_PKG@$RIE_VERSION"

export LAMB_BENCH_LAMB="$bin/lamb" LAMB_BENCH_ECHO="$bin/echo" LAMB_BENCH_RIE="$bin/aws-lambda-rie" LAMB_BENCH_HTTPECHO="$bin/httpecho"

# table WIDTH ROWS FILE prints one row per measurement of the benchmark output
# in FILE: lamb, the baseline measured in the same run, the ratio and its goal.
# ROWS are awk calls row(label, lamb, baseline, ratio, goal, op, limit); a
# benchmark that did not run leaves its rows out.
table() {
	awk -v w="$1" '
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) m[name "." $(i + 1)] = $i
}
function row(label, lamb, base, r, goal, op, limit,   verdict) {
	if (!((lamb) in m)) return
	verdict = ""
	if (goal != "" && r in m) verdict = ((op == "<=" && m[r] <= limit) || (op == ">=" && m[r] >= limit)) ? "met" : "MISSED"
	printf "%-" w "s %10s %10s %8s  %-8s %s\n", label, m[lamb], (base in m ? m[base] : "-"), (r in m ? sprintf("%.2f", m[r]) : "-"), goal, verdict
}
END {
	printf "%-" w "s %10s %10s %8s  %-8s\n", "measurement", "lamb", "baseline", "ratio", "goal"
'"$2"'
}' "$3"
}

run() { # name benchtime
	[[ $1 =~ $BENCH ]] || return 0
	go test -run '^$' -bench "^Benchmark$1\$" -benchtime "$2" -count 1 ./bench/ -bench.window "$WINDOW" | tee -a "$out" >&2
}
run "WarmInvoke" "${WARM_N}x"
run "WarmInvokeLarge" "${LARGE_N}x"
run "WarmFloor" "${WARM_N}x"
run "Throughput" "1x"
run "WarmMemory" "${MEM_N}x"
run "ColdStart" "${COLD_N}x"
run "ScaleOut" "1x"
run "HotReload" "${HOT_N}x"

echo
echo "lamb invoke-path benchmarks ($(date -u +%FT%TZ), $(nproc) cores, warm n=$WARM_N, 256KiB n=$LARGE_N, cold n=$COLD_N, window=$WINDOW)"
table 58 '
	row("warm p50 (us), baseline RIE", "WarmInvoke.lamb_p50_us", "WarmInvoke.rie_p50_us", "WarmInvoke.ratio_p50", "<= 1.00", "<=", 1.00)
	row("warm p99 (us), baseline RIE", "WarmInvoke.lamb_p99_us", "WarmInvoke.rie_p99_us", "WarmInvoke.ratio_p99", "<= 1.00", "<=", 1.00)
	row("warm p50 (us), baseline loopback HTTP echo", "WarmFloor.lamb_p50_us", "WarmFloor.echo_p50_us", "WarmFloor.ratio_p50", "<= 2.50", "<=", 2.50)
	row("warm p99 (us), baseline loopback HTTP echo", "WarmFloor.lamb_p99_us", "WarmFloor.echo_p99_us", "WarmFloor.ratio_p99", "", "", 0)
	row("throughput 0ms fn, 8 clients (invokes/s), baseline echo", "Throughput.lamb_per_s", "Throughput.echo_per_s", "Throughput.ratio", ">= 0.50", ">=", 0.50)
	row("  lamb CPU per invoke (us)", "Throughput.lamb_cpu_us_per_invoke", "", "", "", "", 0)
	row("lamb KiB per warm instance (RSS growth), goal <= 512", "WarmMemory.lamb_rss_kib_per_instance", "", "", "", "", 0)
	row("lamb KiB per warm instance (Go heap in use)", "WarmMemory.lamb_heap_kib_per_instance", "", "", "", "", 0)
	row("warm 256KiB p50 (us), baseline RIE", "WarmInvokeLarge.lamb_p50_us", "WarmInvokeLarge.rie_p50_us", "WarmInvokeLarge.ratio_p50", "", "", 0)
	row("warm 256KiB p99 (us), baseline RIE", "WarmInvokeLarge.lamb_p99_us", "WarmInvokeLarge.rie_p99_us", "WarmInvokeLarge.ratio_p99", "", "", 0)
	row("cold go p50 (ms), baseline RIE", "ColdStart/go.lamb_p50_ms", "ColdStart/go.rie_p50_ms", "ColdStart/go.ratio_p50", "", "", 0)
	row("cold go p50 (ms), new function", "ColdStart/go.lamb_new_p50_ms", "", "", "", "", 0)
	row("cold python p50 (ms), baseline python3 -c pass", "ColdStart/python.lamb_p50_ms", "ColdStart/python.floor_p50_ms", "ColdStart/python.ratio_p50", "", "", 0)
	row("cold python p50 (ms), new function", "ColdStart/python.lamb_new_p50_ms", "", "", "", "", 0)
	row("scale-out 20ms fn (invokes/s), 4 vs 1 client", "ScaleOut.c4_per_s", "ScaleOut.c1_per_s", "ScaleOut.ratio_c4_c1", ">= 3.5", ">=", 3.5)
	row("hot reload save->new code p50 (ms), goal <= 300", "HotReload.lamb_p50_ms", "", "", "", "", 0)
	row("hot reload p50 (ms), baseline cold start after evict", "HotReload.lamb_p50_ms", "HotReload.cold_p50_ms", "HotReload.ratio_cold_p50", "", "", 0)
	row("hot reload p50 (ms), against the debounce interval", "HotReload.lamb_p50_ms", "HotReload.debounce_ms", "HotReload.ratio_debounce_p50", "", "", 0)
	row("hot reload invokes per save (1: the next invoke)", "HotReload.invokes_per_save", "", "", "", "", 0)
' "$out"

# ---------------------------------------------------------------------------
# Process cold starts of python and node, on two lambs of this run: with
# pre-started runtimes (--prestart, the default) and without, after evict and
# after UpdateFunctionCode, against `python3 -c pass` and `node -e 0` in the
# same run.
: >"$out"
run "ProcessColdStart" "${COLD_N}x"
if [[ -s $out ]]; then
	echo
	echo "lamb process cold starts ($(date -u +%FT%TZ), $(nproc) cores, n=$COLD_N)"
	table 62 '
	row("python Init Duration p50 (ms) after evict, prestart", "ProcessColdStart.prestart_evict_init_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.prestart_evict_ratio_init", "<= 0.50", "<=", 0.50)
	row("python Init Duration p50 (ms) after update, prestart", "ProcessColdStart.prestart_update_init_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.prestart_update_ratio_init", "<= 0.50", "<=", 0.50)
	row("python Init Duration p50 (ms) after evict, --prestart=false", "ProcessColdStart.normal_evict_init_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.normal_evict_ratio_init", "", "", 0)
	row("python Init Duration p50 (ms) after update, --prestart=false", "ProcessColdStart.normal_update_init_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.normal_update_ratio_init", "", "", 0)
	row("python cold invoke wall p50 (ms) after evict, prestart", "ProcessColdStart.prestart_evict_wall_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.prestart_evict_ratio_wall", "", "", 0)
	row("python cold invoke wall p50 (ms) after update, prestart", "ProcessColdStart.prestart_update_wall_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.prestart_update_ratio_wall", "", "", 0)
	row("python cold invoke wall p50 (ms) after evict, --prestart=false", "ProcessColdStart.normal_evict_wall_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.normal_evict_ratio_wall", "", "", 0)
	row("python cold invoke wall p50 (ms) after update, --prestart=false", "ProcessColdStart.normal_update_wall_p50_ms", "ProcessColdStart.floor_p50_ms", "ProcessColdStart.normal_update_ratio_wall", "", "", 0)
	row("node Init Duration p50 (ms) after evict, prestart", "ProcessColdStart.node_prestart_evict_init_p50_ms", "ProcessColdStart.node_floor_p50_ms", "ProcessColdStart.node_prestart_evict_ratio_init", "<= 0.50", "<=", 0.50)
	row("node Init Duration p50 (ms) after update, prestart", "ProcessColdStart.node_prestart_update_init_p50_ms", "ProcessColdStart.node_floor_p50_ms", "ProcessColdStart.node_prestart_update_ratio_init", "<= 0.50", "<=", 0.50)
	row("node Init Duration p50 (ms) after evict, --prestart=false", "ProcessColdStart.node_normal_evict_init_p50_ms", "ProcessColdStart.node_floor_p50_ms", "ProcessColdStart.node_normal_evict_ratio_init", "", "", 0)
	row("node Init Duration p50 (ms) after update, --prestart=false", "ProcessColdStart.node_normal_update_init_p50_ms", "ProcessColdStart.node_floor_p50_ms", "ProcessColdStart.node_normal_update_ratio_init", "", "", 0)
	row("node cold invoke wall p50 (ms) after evict, prestart", "ProcessColdStart.node_prestart_evict_wall_p50_ms", "ProcessColdStart.node_floor_p50_ms", "ProcessColdStart.node_prestart_evict_ratio_wall", "", "", 0)
	row("node cold invoke wall p50 (ms) after evict, --prestart=false", "ProcessColdStart.node_normal_evict_wall_p50_ms", "ProcessColdStart.node_floor_p50_ms", "ProcessColdStart.node_normal_evict_ratio_wall", "", "", 0)
' "$out"
fi

# ---------------------------------------------------------------------------
# Docker backend: lamb serve --backend docker on the stand-in runtime images
# (scripts/build-runtime-images.sh) against the RIE in a container of the same
# image, through a port published on 127.0.0.1. lamb ships itself into its
# containers as the agent and the RIE runs inside one: both are built static.
# Skipped (with a note) when no Docker engine answers.
DOCKER_WARM_N=${DOCKER_WARM_N:-$WARM_N}
DOCKER_COLD_N=${DOCKER_COLD_N:-$COLD_N}
if [[ "DockerWarmInvoke DockerColdStart DockerScaleOut DockerHotReload DockerWarmMemory" =~ $BENCH ]]; then
	if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
		echo
		echo "docker backend benchmarks: skipped (no Docker engine answers the docker CLI)"
	else
		mkdir -p "$bin/static"
		CGO_ENABLED=0 go build -o "$bin/static/lamb" ./cmd/lamb
		[[ -x "$bin/static/aws-lambda-rie" ]] || CGO_ENABLED=0 GOBIN="$bin/static" go install "$RIE_PKG@$RIE_VERSION"
		images=$(LAMB_IMAGE_FAMILIES="provided python" bash scripts/build-runtime-images.sh)
		export LAMB_BENCH_LAMB_STATIC="$bin/static/lamb" LAMB_BENCH_RIE_STATIC="$bin/static/aws-lambda-rie"
		export LAMB_BENCH_IMAGES=${images//$'\n'/,}
		: >"$out"
		run "DockerWarmInvoke" "${DOCKER_WARM_N}x"
		run "DockerColdStart" "${DOCKER_COLD_N}x"
		run "DockerScaleOut" "1x"
		run "DockerHotReload" "${HOT_N}x"
		run "DockerWarmMemory" "${MEM_N}x"
		echo
		echo "lamb docker-backend benchmarks ($(date -u +%FT%TZ), $(nproc) cores, docker $(docker version --format '{{.Server.Version}}'), warm n=$DOCKER_WARM_N, cold n=$DOCKER_COLD_N, window=$WINDOW)"
		echo "images: ${LAMB_BENCH_IMAGES}"
		table 62 '
	row("warm go p50 (us), baseline RIE container", "DockerWarmInvoke/go.lamb_p50_us", "DockerWarmInvoke/go.rie_p50_us", "DockerWarmInvoke/go.ratio_p50", "<= 1.00", "<=", 1.00)
	row("warm go p50 (us), baseline RIE at container IP (no proxy)", "DockerWarmInvoke/go.lamb_p50_us", "DockerWarmInvoke/go.rie_direct_p50_us", "DockerWarmInvoke/go.ratio_direct_p50", "", "", 0)
	row("warm go p99 (us), baseline RIE container", "DockerWarmInvoke/go.lamb_p99_us", "DockerWarmInvoke/go.rie_p99_us", "DockerWarmInvoke/go.ratio_p99", "", "", 0)
	row("warm python p50 (us), baseline RIE container", "DockerWarmInvoke/python.lamb_p50_us", "DockerWarmInvoke/python.rie_p50_us", "DockerWarmInvoke/python.ratio_p50", "<= 1.00", "<=", 1.00)
	row("warm python p50 (us), baseline RIE at container IP (no proxy)", "DockerWarmInvoke/python.lamb_p50_us", "DockerWarmInvoke/python.rie_direct_p50_us", "DockerWarmInvoke/python.ratio_direct_p50", "", "", 0)
	row("warm python p99 (us), baseline RIE container", "DockerWarmInvoke/python.lamb_p99_us", "DockerWarmInvoke/python.rie_p99_us", "DockerWarmInvoke/python.ratio_p99", "", "", 0)
	row("cold go p50 (ms) after evict, baseline docker run+RIE", "DockerColdStart/go.lamb_p50_ms", "DockerColdStart/go.rie_p50_ms", "DockerColdStart/go.ratio_p50", "<= 0.25", "<=", 0.25)
	row("cold go p50 (ms) new function, baseline docker run+RIE", "DockerColdStart/go.lamb_new_p50_ms", "DockerColdStart/go.rie_p50_ms", "DockerColdStart/go.ratio_new_p50", "<= 0.25", "<=", 0.25)
	row("  of which docker run -d (ms)", "DockerColdStart/go.rie_run_p50_ms", "", "", "", "", 0)
	row("cold go p50 (ms) after evict, baseline plain docker run", "DockerColdStart/go.lamb_p50_ms", "DockerColdStart/go.docker_run_p50_ms", "DockerColdStart/go.ratio_docker_run_p50", "", "", 0)
	row("cold python p50 (ms) after evict, baseline docker run+RIE", "DockerColdStart/python.lamb_p50_ms", "DockerColdStart/python.rie_p50_ms", "DockerColdStart/python.ratio_p50", "<= 0.25", "<=", 0.25)
	row("cold python p50 (ms) new function, baseline docker run+RIE", "DockerColdStart/python.lamb_new_p50_ms", "DockerColdStart/python.rie_p50_ms", "DockerColdStart/python.ratio_new_p50", "<= 0.25", "<=", 0.25)
	row("  of which docker run -d (ms)", "DockerColdStart/python.rie_run_p50_ms", "", "", "", "", 0)
	row("cold python p50 (ms) after evict, baseline plain docker run", "DockerColdStart/python.lamb_p50_ms", "DockerColdStart/python.docker_run_p50_ms", "DockerColdStart/python.ratio_docker_run_p50", "", "", 0)
	row("scale-out 20ms fn (invokes/s), 4 vs 1 client", "DockerScaleOut.c4_per_s", "DockerScaleOut.c1_per_s", "DockerScaleOut.ratio_c4_c1", ">= 3.5", ">=", 3.5)
	row("lamb KiB per warm instance (RSS growth), goal <= 512", "DockerWarmMemory.lamb_rss_kib_per_instance", "", "", "", "", 0)
	row("lamb KiB per warm instance (Go heap in use)", "DockerWarmMemory.lamb_heap_kib_per_instance", "", "", "", "", 0)
	row("hot reload save->new code p50 (ms), goal <= 600", "DockerHotReload.lamb_p50_ms", "", "", "", "", 0)
	row("hot reload p50 (ms), baseline cold start after evict", "DockerHotReload.lamb_p50_ms", "DockerHotReload.cold_p50_ms", "DockerHotReload.ratio_cold_p50", "", "", 0)
	row("hot reload p50 (ms), against the debounce interval", "DockerHotReload.lamb_p50_ms", "DockerHotReload.debounce_ms", "DockerHotReload.ratio_debounce_p50", "", "", 0)
	row("hot reload invokes per save (1: the next invoke)", "DockerHotReload.invokes_per_save", "", "", "", "", 0)
' "$out"
	fi
fi
