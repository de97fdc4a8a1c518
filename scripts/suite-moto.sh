#!/usr/bin/env bash
# Runs moto's Lambda tests (tests/test_awslambda of getmoto/moto 5.2.1) against
# lamb: Lambda calls go to a freshly built lamb, every other service to a moto
# server (test/suites/moto/harness.py). Not part of the default test run.
#
#   scripts/suite-moto.sh MOTO_SRC [pytest args...]
#
# MOTO_SRC is a copy of moto's source at tag 5.2.1 holding tests/ (at least
# tests/__init__.py, conftest.py, markers.py, test_awslambda/, test_s3/__init__.py,
# test_ecr/). Nothing is fetched here: get it once, e.g.
#   git clone --depth 1 --branch 5.2.1 https://github.com/getmoto/moto MOTO_SRC
# Needs python3 with moto[server] 5.2.1 and boto3 (scripts/setup.sh), pytest and
# freezegun (pip, or Debian's python3-pytest python3-freezegun).
# Prints each failure and "N passed, N failed" (see docs/api-coverage.md for the
# last run's table).
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,16p' "$0"; exit 2; }
src="$(cd "$1" && pwd)"
shift
[ -d "$src/tests/test_awslambda" ] || { echo "suite-moto: $src has no tests/test_awslambda" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/lamb" ./cmd/lamb)
python3 "$root/test/suites/moto/harness.py" --lamb "$bin/lamb" --moto-src "$src" "$@"
