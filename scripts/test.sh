#!/usr/bin/env bash
# The test command: set-up on a fresh machine, static checks, then every test with
# the race detector. This is what the README gives and what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/cross.sh # darwin and windows build and vet

# Container engines (Docker, Podman) started if installed, stand-in runtime
# images built and exported for the tests.
source ./scripts/engines.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
"$(go env GOPATH)/bin/staticcheck" ./...
go test -race -count=1 -timeout 20m ./...
# A short fuzzing run of every target (the seed corpora ran above); long runs:
# scripts/fuzz.sh 10m.
./scripts/fuzz.sh 3s
