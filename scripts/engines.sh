# Sourced by scripts/test.sh and .ci/run (bash, set -euo pipefail, repo root as
# the working directory).
#
# Container engines for the Docker/Podman backend's tests: start the ones that
# are installed but not running (as root; bounded waits; left running), then
# build the stand-in runtime images for each (instant once built) and export
# them for the tests: LAMB_TEST_IMAGES (Docker, or Podman when there is no
# Docker: engine/backend/docker's tests take the first engine that answers) and
# LAMB_TEST_PODMAN_IMAGES. Under CI=true an engine that cannot be had is an
# error; elsewhere its tests skip.
ENGINE_LOGS=${LAMB_ENGINE_LOGS:-/var/log/lamb-engines}
PODMAN_SOCK=/run/podman/podman.sock

engine_unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "engines: $*" >&2
		exit 1
	fi
	echo "engines: $* (its tests will skip)" >&2
}

# wait_up SECONDS CMD...: until CMD succeeds, at most SECONDS.
wait_up() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

docker_up() { docker info >/dev/null 2>&1; }
podman_up() { podman --url "unix://$PODMAN_SOCK" version >/dev/null 2>&1; }

# start_engine NAME UP_FN CMD...: runs CMD detached unless UP_FN already succeeds.
start_engine() {
	local name=$1 up=$2
	shift 2
	if "$up"; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		engine_unavailable "$name is not running (start it, or run this as root)"
		return 1
	fi
	mkdir -p "$ENGINE_LOGS"
	echo "engines: starting $name (log: $ENGINE_LOGS/$name.log)"
	# From /: Podman's conmon writes an `oom` marker file into the service's
	# working directory when a container is OOM-killed.
	(cd / && exec setsid "$@" >>"$ENGINE_LOGS/$name.log" 2>&1 </dev/null) &
	if ! wait_up 60 "$up"; then
		engine_unavailable "$name did not answer within 60s (see $ENGINE_LOGS/$name.log)"
		return 1
	fi
}

# images_for CLI VAR: exports VAR=FAMILY=IMAGE,... of the stand-in runtime
# images in CLI's engine, unless VAR is set.
images_for() {
	local out
	[ -z "${!2:-}" ] || return 0
	if ! out=$(DOCKER=$1 ./scripts/build-runtime-images.sh); then
		engine_unavailable "building the stand-in runtime images for $1 failed"
		return 1
	fi
	export "$2=$(echo "$out" | paste -sd, -)"
}

docker_ok="" podman_ok=""
if command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ]; then
	start_engine dockerd docker_up dockerd && docker_ok=1
else
	engine_unavailable "Docker is not installed"
fi
if command -v podman >/dev/null; then
	# A socket file left by a dead service would refuse connections.
	podman_up || rm -f "$PODMAN_SOCK" 2>/dev/null || true
	[ "$(id -u)" -ne 0 ] || mkdir -p "$(dirname "$PODMAN_SOCK")"
	start_engine podman podman_up podman system service --time=0 "unix://$PODMAN_SOCK" && podman_ok=1
else
	engine_unavailable "Podman is not installed"
fi
[ -z "$docker_ok" ] || images_for docker LAMB_TEST_IMAGES || true
[ -z "$podman_ok" ] || images_for podman LAMB_TEST_PODMAN_IMAGES || true
if [ -z "$docker_ok" ] && [ -n "${LAMB_TEST_PODMAN_IMAGES:-}" ] && [ -z "${LAMB_TEST_IMAGES:-}" ]; then
	export LAMB_TEST_IMAGES=$LAMB_TEST_PODMAN_IMAGES
fi
echo "engines: LAMB_TEST_IMAGES=${LAMB_TEST_IMAGES:-} LAMB_TEST_PODMAN_IMAGES=${LAMB_TEST_PODMAN_IMAGES:-}"

