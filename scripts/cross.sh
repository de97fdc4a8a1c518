#!/usr/bin/env bash
# Cross-compiles lamb and vets it for the platforms users run it on besides
# Linux: darwin/arm64, darwin/amd64, windows/amd64. Nothing runs there; this
# keeps Linux- and Unix-only calls, tests' included, behind build tags.
# scripts/test.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

for target in darwin/arm64 darwin/amd64 windows/amd64; do
	export GOOS=${target%/*} GOARCH=${target#*/}
	start=$SECONDS
	go build -o /dev/null ./cmd/lamb
	go vet ./...
	echo "cross: $target builds and vets ($((SECONDS - start)) s)"
done
