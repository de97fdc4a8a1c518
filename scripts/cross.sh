#!/usr/bin/env bash
# Cross-compiles lamb and vets it for the platforms users run it on besides
# Linux: darwin/arm64, darwin/amd64, windows/amd64. Nothing runs there; this
# keeps Linux-only calls behind build tags. scripts/test.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

# On Windows these packages' tests drive real processes with Unix signals and
# FIFOs (the process backend refuses to start there); their non-test code has
# no platform-specific files, so vetting it on Linux and darwin covers it.
windows_unvetted='/lamb/(api|engine|runtimeapi|bench|test/e2e)$'

for target in darwin/arm64 darwin/amd64 windows/amd64; do
	export GOOS=${target%/*} GOARCH=${target#*/}
	start=$SECONDS
	go build -o /dev/null ./cmd/lamb
	if [ "$GOOS" = windows ]; then
		go vet $(go list ./... | grep -Ev "$windows_unvetted")
	else
		go vet ./...
	fi
	echo "cross: $target builds and vets ($((SECONDS - start)) s)"
done
