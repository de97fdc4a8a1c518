#!/usr/bin/env bash
# Helpers for running lamb's Kubernetes tests on the single-node cluster of
# ../shared/k8s/cluster.sh (a real kubelet on its own containerd, no registry).
#
#   scripts/ci-kubernetes.sh up            # build (reuses binaries) and start the cluster
#   scripts/ci-kubernetes.sh images        # build lamb's image and the runtime images, load them
#                                          # into the node; prints LAMB_TEST_* exports
#   scripts/ci-kubernetes.sh load IMG...   # load local docker images into the node
#   scripts/ci-kubernetes.sh test          # up + images + the Kubernetes tests, then down (always)
#   scripts/ci-kubernetes.sh down          # stop the cluster, restore the host
#
# CLUSTER_SH overrides the cluster script's path; K8SX_DIR its work dir.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER_SH=${CLUSTER_SH:-$HERE/../shared/k8s/cluster.sh}
[ -f "$CLUSTER_SH" ] || CLUSTER_SH=/work/shared/k8s/cluster.sh
K8SX_DIR=${K8SX_DIR:-/tmp/k8sx}
CTR_SOCK=$K8SX_DIR/containerd.sock
log() { echo "ci-kubernetes: $*" >&2; }

# The cluster's own needs (../shared/k8s/README.md), installed when missing.
K8S_PACKAGES="containerd runc containernetworking-plugins iptables conntrack busybox-static openssl curl bc docker.io"

up() {
	local missing=() p
	for p in $K8S_PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
	bash "$CLUSTER_SH" build
	down # whatever an interrupted earlier run left (processes, iptables, state) goes first
	bash "$CLUSTER_SH" up
}

down() {
	bash "$CLUSTER_SH" down || true
	# The cluster script stops what its pid files name; a process whose pid file
	# an overlapping run overwrote would hold the node's ports for the next one.
	pkill -f -- "$K8SX_DIR/etc/" 2>/dev/null || true
}

load() {
	local img have
	# Listed once, not piped into grep -q: under pipefail, ctr's SIGPIPE would read as "absent".
	have=$(ctr --address "$CTR_SOCK" -n k8s.io images ls -q)
	for img in "$@"; do
		# Already on the node (same tag = same content: our tags are content hashes).
		if grep -qx "docker.io/library/$img\|$img" <<<"$have"; then
			continue
		fi
		log "loading $img into the node"
		docker save "$img" | ctr --address "$CTR_SOCK" -n k8s.io images import - >/dev/null
	done
}

images() {
	local lamb runtimes
	lamb=$(LAMB_IMAGE_PKG=${LAMB_IMAGE_PKG:-./engine/backend/kubernetes/cmd/lamb-k8s} "$HERE/scripts/build-lamb-image.sh")
	runtimes=$("$HERE/scripts/build-runtime-images.sh")
	# shellcheck disable=SC2046
	load "$lamb" $(echo "$runtimes" | cut -d= -f2)
	echo "export LAMB_TEST_K8S_INIT_IMAGE=$lamb"
	echo "export LAMB_TEST_IMAGES=$(echo "$runtimes" | paste -sd, -)"
	echo "export LAMB_TEST_KUBECONFIG=$K8SX_DIR/etc/admin.kubeconfig"
}

test_all() {
	trap down EXIT
	up
	eval "$(images)"
	cd "$HERE"
	go test -race -count=1 -timeout 15m ./engine/backend/kubernetes/...
	go test -count=1 -timeout 15m -run 'TestKubernetes' ./test/e2e/
}

case "${1:-}" in
up) up ;;
down) down ;;
images) images ;;
load) shift; load "$@" ;;
test) test_all ;;
*) echo "usage: $0 up|images|load IMG...|test|down" >&2; exit 2 ;;
esac
