# Sourced by scripts/test.sh and .ci/run (bash, set -euo pipefail, repo root as
# the working directory).
#
# Container engines for the Docker/Podman backend's tests: start the ones that
# are installed but not running (as root; bounded waits; left running), then
# build the stand-in runtime images for each and export them for the tests:
# LAMB_TEST_IMAGES (Docker, or Podman when there is no Docker:
# engine/backend/docker's tests take the first engine that answers) and
# LAMB_TEST_PODMAN_IMAGES. Under CI=true an engine that cannot be had is an
# error; elsewhere its tests skip.
#
# Under CI=true the engines also start from state made fresh for the run, so
# that a bug which only a machine where no engine ever ran shows (no docker0
# yet, a bridge that Podman creates with its first container, an empty network
# database) fails CI too: a running dockerd or Podman service on the sockets
# the tests use is stopped, the bridges are deleted, and both start again with
# empty data, exec and network roots under LAMB_ENGINE_STATE (default
# /var/lib/lamb-engines, run state under /run/lamb-engines), which the next CI
# run deletes. Nothing is carried over: the stand-in images are imported again
# from the root filesystems build-runtime-images.sh made itself (its cache).
# LAMB_ENGINES_FRESH=1 (exported) says this run's engines are fresh already.
ENGINE_LOGS=${LAMB_ENGINE_LOGS:-/var/log/lamb-engines}
ENGINE_STATE=${LAMB_ENGINE_STATE:-/var/lib/lamb-engines}
ENGINE_RUN=/run/lamb-engines
DOCKER_SOCK=/var/run/docker.sock
DOCKER_PID=/var/run/docker.pid # dockerd's default pid file
PODMAN_SOCK=/run/podman/podman.sock
PODMAN_PID=$ENGINE_RUN/podman.pid

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

# start_engine NAME UP_FN PIDFILE CMD...: runs CMD detached unless UP_FN
# already succeeds; writes its pid to PIDFILE unless PIDFILE is "-".
start_engine() {
	local name=$1 up=$2 pidfile=$3
	shift 3
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
	# working directory when a container is OOM-killed. setsid does not fork
	# (a background job of a script leads no process group): $! is the engine.
	(cd / && exec setsid "$@" >>"$ENGINE_LOGS/$name.log" 2>&1 </dev/null) &
	[ "$pidfile" = - ] || echo $! >"$pidfile"
	if ! wait_up 60 "$up"; then
		engine_unavailable "$name did not answer within 60s (see $ENGINE_LOGS/$name.log)"
		return 1
	fi
}

# socket_owner SOCK prints the pid of the process listening on unix socket SOCK.
socket_owner() {
	ss -xlpn 2>/dev/null | awk -v s="$1" '$5 == s && match($0, /pid=[0-9]+/) { print substr($0, RSTART + 4, RLENGTH - 4); exit }'
}

# stop_engine NAME SOCK PIDFILE: stops the engine serving SOCK (found by its
# pid file, else as the socket's owner), TERM then, after 30 s, KILL.
stop_engine() {
	local name=$1 sock=$2 pidfile=$3 pid=""
	[ -f "$pidfile" ] && pid=$(cat "$pidfile")
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		pid=$(socket_owner "$sock")
	fi
	rm -f "$pidfile"
	[ -n "$pid" ] || return 0
	echo "engines: CI: stopping $name (pid $pid) to start it from fresh state"
	kill -TERM "$pid" 2>/dev/null || return 0
	local deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			sleep 1
			break
		fi
		sleep 0.2
	done
}

# fresh_state stops the engines the tests use and deletes every trace an
# earlier run left: data, exec and network roots, bridges, sockets.
fresh_state() {
	if [ "$(id -u)" -ne 0 ]; then
		engine_unavailable "fresh engine state needs root"
		return 1
	fi
	if command -v systemctl >/dev/null && systemctl is-active --quiet docker 2>/dev/null; then
		systemctl stop docker.socket docker 2>/dev/null || true
	fi
	stop_engine dockerd "$DOCKER_SOCK" "$DOCKER_PID"
	stop_engine "the Podman service" "$PODMAN_SOCK" "$PODMAN_PID"
	# Mounts a killed engine left (overlays, shm), deepest first.
	local m
	for m in $(awk -v a="$ENGINE_STATE/" -v b="$ENGINE_RUN/" 'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$ENGINE_STATE" "$ENGINE_RUN"
	local br
	for br in docker0 podman0 cni-podman0; do
		if ip link show "$br" >/dev/null 2>&1; then
			ip link delete "$br" || true
		fi
	done
	rm -f "$DOCKER_SOCK" "$PODMAN_SOCK"
	mkdir -p "$ENGINE_STATE" "$ENGINE_RUN" "$(dirname "$PODMAN_SOCK")"
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

engines_start=$SECONDS
fresh=""
dockerd_args=() podman_args=()
if [ "${CI:-}" = true ]; then
	# Once per CI run: .ci/run sources this, then scripts/test.sh again.
	if [ -z "${LAMB_ENGINES_FRESH:-}" ]; then
		fresh_state
		export LAMB_ENGINES_FRESH=1
	fi
	fresh=1
	dockerd_args=(--data-root "$ENGINE_STATE/docker" --exec-root "$ENGINE_RUN/docker")
	podman_args=(--root "$ENGINE_STATE/podman" --runroot "$ENGINE_RUN/podman"
		--tmpdir "$ENGINE_RUN/libpod" --network-config-dir "$ENGINE_STATE/podman-networks")
fi
docker_ok="" podman_ok=""
if command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ]; then
	start_engine dockerd docker_up - dockerd "${dockerd_args[@]}" && docker_ok=1
else
	engine_unavailable "Docker is not installed"
fi
if command -v podman >/dev/null; then
	# A socket file left by a dead service would refuse connections.
	podman_up || rm -f "$PODMAN_SOCK" 2>/dev/null || true
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -p "$(dirname "$PODMAN_SOCK")" "$ENGINE_RUN"
	fi
	pidfile=-
	[ "$(id -u)" -ne 0 ] || pidfile=$PODMAN_PID
	start_engine podman podman_up "$pidfile" podman "${podman_args[@]}" system service --time=0 "unix://$PODMAN_SOCK" && podman_ok=1
	if [ -n "$fresh" ]; then
		# The podman CLI (tests, the image build) must use the service's fresh
		# storage, not its own default: CONTAINER_HOST makes it a remote client.
		export CONTAINER_HOST="unix://$PODMAN_SOCK"
	fi
else
	engine_unavailable "Podman is not installed"
fi
[ -z "$docker_ok" ] || images_for docker LAMB_TEST_IMAGES || true
[ -z "$podman_ok" ] || images_for podman LAMB_TEST_PODMAN_IMAGES || true
if [ -z "$docker_ok" ] && [ -n "${LAMB_TEST_PODMAN_IMAGES:-}" ] && [ -z "${LAMB_TEST_IMAGES:-}" ]; then
	export LAMB_TEST_IMAGES=$LAMB_TEST_PODMAN_IMAGES
fi
echo "engines: LAMB_TEST_IMAGES=${LAMB_TEST_IMAGES:-} LAMB_TEST_PODMAN_IMAGES=${LAMB_TEST_PODMAN_IMAGES:-}"
if [ -n "$fresh" ]; then
	echo "engines: fresh engines and their images ready in $((SECONDS - engines_start))s"
fi
