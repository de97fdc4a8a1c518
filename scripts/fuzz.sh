#!/usr/bin/env bash
# Runs every fuzz target (func FuzzXxx in a *_test.go file) for a while, one
# after the other with one worker, and prints each one's result.
#
#   scripts/fuzz.sh [duration] [target-regexp]
#
# duration is a go test -fuzztime (default $FUZZTIME, else 10m; "10s" is the
# short run, "1000x" a number of executions); target-regexp picks targets by
# name (default: all). `go test ./...` already runs every target's seed
# corpus (f.Add and testdata/fuzz/<Target>/) without fuzzing.
#
# A target that fails leaves its input in <package>/testdata/fuzz/<Target>/;
# commit it with the fix, as a seed. Exit status: 0 when every target passed.
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-${FUZZTIME:-10m}}
pick=${2:-.}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/lamb-fuzz.XXXXXX")

# "dir target" pairs, from the sources: listing them with go test -list
# would build the tests of every package.
mapfile -t targets < <(git grep -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' -- '*_test.go' |
	sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]+).*#\1 \2#; s#^[^/ ]*_test\.go:func (Fuzz[A-Za-z0-9_]+).*#. \1#' |
	awk -v pick="$pick" '$2 ~ pick' | sort)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz target matches $pick" >&2
	exit 2
fi
echo "fuzz.sh: ${#targets[@]} targets, -fuzztime $fuzztime each, logs in $logdir"

results=()
failed=0
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	log="$logdir/$name.log"
	echo "== $name (./$dir) started $(date -u +%H:%M:%SZ)"
	start=$(date +%s)
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -parallel 1 -timeout 0 "./$dir" >"$log" 2>&1
	rc=$?
	# Go's fuzzing engine fails with a bare "context deadline exceeded" when
	# -fuzztime ends before it has run the corpus for its coverage baseline
	# (a short -fuzztime on a loaded machine): no input failed. Once more,
	# with time for the baseline.
	if [ $rc -ne 0 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"; then
		echo "   $name: the fuzzing engine ran out of -fuzztime before its baseline; again with -fuzztime 30s"
		go test -run='^$' -fuzz="^${name}\$" -fuzztime=30s -parallel 1 -timeout 0 "./$dir" >"$log" 2>&1
		rc=$?
	fi
	secs=$(($(date +%s) - start))
	# The last progress line carries the total: "fuzz: elapsed: 10m0s, execs: 123 (…/sec), new interesting: …".
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	interesting=$(grep -oE 'new interesting: [0-9]+ \(total: [0-9]+\)' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		status=PASS
	else
		status=FAIL
		failed=$((failed + 1))
		grep -E -A12 -- '^--- FAIL|^(panic|fatal error):' "$log" | head -40
		grep -E 'Failing input written to' "$log"
	fi
	line=$(printf '%-4s %-26s %-12s execs %-12s %ss  %s' "$status" "$name" "./$dir" "${execs:-0}" "$secs" "$interesting")
	echo "$line"
	results+=("$line")
done

echo
echo "fuzz.sh summary (-fuzztime $fuzztime, -parallel 1):"
printf '%s\n' "${results[@]}"
echo "$((${#targets[@]} - failed)) passed, $failed failed"
[ $failed -eq 0 ]
