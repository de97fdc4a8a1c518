#!/usr/bin/env bash
# Installs what lamb's tests need on a fresh Debian 12 machine. Idempotent: it only
# installs what is missing. Run as root (or with sudo available).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
	if [ -z "$apt_updated" ]; then
		$SUDO apt-get update -qq
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# The AWS CLI v2 (Debian's awscli package is v2; a pip-installed v1 may shadow it on PATH).
if ! /usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2'; then
	echo "setup: installing the AWS CLI v2 (awscli)"
	apt_install awscli
fi
# boto3 for the python client tests, and python3/node as function runtimes.
if ! python3 -c 'import boto3' 2>/dev/null; then
	echo "setup: installing boto3 (python3-boto3)"
	apt_install python3-boto3
fi
# moto's server, the SQS/Kinesis/DynamoDB endpoint of the event source tests
# (test/e2e/eventsource_test.go) and bench: pinned, from pip when it has it,
# else Debian's python3-moto with the server's flask dependencies.
MOTO_VERSION=5.2.1
if ! python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null; then
	echo "setup: installing moto[server] $MOTO_VERSION"
	if ! python3 -m pip install -q "moto[server]==$MOTO_VERSION" 2>/dev/null &&
		! python3 -m pip install -q --break-system-packages "moto[server]==$MOTO_VERSION" 2>/dev/null; then
		apt_install python3-moto python3-flask python3-flask-cors
	fi
fi
command -v node >/dev/null || { echo "setup: installing nodejs"; apt_install nodejs npm; }
# Debuggers (test/e2e/debug_test.go, docs/debugging.md): debugpy for python
# functions; delve is built by the test itself (go install into the user cache).
[ -d /usr/lib/python3/dist-packages/debugpy ] || { echo "setup: installing python3-debugpy"; apt_install python3-debugpy; }

# The java runtimes (runtimes/java, test/e2e/debug_java_test.go): javac compiles lamb's
# java bootstrap (process backend, the java stand-in image) and the tests' handlers;
# jdb is the JDWP client of the debugger test.
command -v javac >/dev/null && command -v jdb >/dev/null || { echo "setup: installing openjdk-17-jdk-headless"; apt_install openjdk-17-jdk-headless; }
command -v zip >/dev/null || apt_install zip
# Building aws-lambda-ric's native addon (test/e2e/ric_test.go): curl's buildconf and
# configure, aws-lambda-cpp's cmake, then node-gyp (python3, make, g++) against the
# local node headers.
for tool in cmake:cmake autoreconf:autoconf aclocal:automake libtoolize:libtool make:make g++:g++ python3:python3; do
	command -v "${tool%%:*}" >/dev/null || { echo "setup: installing ${tool#*:}"; apt_install "${tool#*:}"; }
done
# node-gyp must build against local headers (npm_config_nodedir): Debian's nodejs
# keeps them in libnode-dev; nodesource's nodejs ships them itself.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
[ -f "$node_prefix/include/node/common.gypi" ] || { echo "setup: installing libnode-dev"; apt_install libnode-dev; }
# The web console's browser test (test/e2e TestConsole): Debian's chromium, driven
# by playwright-core (pinned in test/e2e/testdata/console/package-lock.json).
[ -x /usr/bin/chromium ] || { echo "setup: installing chromium"; apt_install chromium; }
console_dir="$(dirname "$0")/../test/e2e/testdata/console"
[ -d "$console_dir/node_modules/playwright-core" ] ||
	{ echo "setup: installing playwright-core"; (cd "$console_dir" && npm ci --no-audit --no-fund >/dev/null); }

# Container engines for the Docker/Podman backend (engine/backend/docker,
# test/e2e/docker_test.go), and debootstrap for the stand-in runtime images
# (scripts/build-runtime-images.sh). scripts/test.sh starts the daemons. One apt
# call, so that both engines share one OCI runtime (runc).
engines=()
command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] || engines+=(docker.io)
command -v podman >/dev/null || engines+=(podman)
if [ ${#engines[@]} -gt 0 ]; then
	echo "setup: installing ${engines[*]}"
	apt_install "${engines[@]}"
fi
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || { echo "setup: installing debootstrap"; apt_install debootstrap; }
# Podman gives containers high nofile/nproc limits by default, which cannot be
# set without CAP_SYS_RESOURCE (as in an unprivileged CI container): `podman run`
# then fails with "error setting rlimits". Cap them, unless Podman is already
# configured. (lamb's backend sets these limits on its own containers anyway.)
cap_bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if [ -n "$cap_bnd" ] && [ $(( (16#$cap_bnd >> 24) & 1 )) -eq 0 ] && [ ! -e /etc/containers/containers.conf ]; then
	echo "setup: no CAP_SYS_RESOURCE: capping Podman's default ulimits in /etc/containers/containers.conf"
	$SUDO mkdir -p /etc/containers
	printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n' | $SUDO tee /etc/containers/containers.conf >/dev/null
fi

# staticcheck, pinned, from the Go module proxy.
STATICCHECK_VERSION=v0.8.2
GOBIN="$(go env GOPATH)/bin"
if ! "$GOBIN/staticcheck" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
	echo "setup: installing staticcheck $STATICCHECK_VERSION"
	go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
