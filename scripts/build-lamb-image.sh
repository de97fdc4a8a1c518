#!/usr/bin/env bash
# Builds lamb's own image: a static lamb binary at /lamb and nothing else. The
# Kubernetes backend runs it as every Pod's init container (`lamb k8s-init`),
# which installs the binary as the agent and fetches code and layers; the same
# image runs `lamb serve` in deploy/kubernetes/.
#
#   scripts/build-lamb-image.sh        # prints the image name, e.g. lamb:3f2a9c1d0e4b
#
# The tag is a hash of the binary, so an unchanged build reuses its image.
# LAMB_IMAGE_PKG selects the Go package built (default ./cmd/lamb; tests use
# ./engine/backend/kubernetes/cmd/lamb-k8s), LAMB_IMAGE_REPO the name (default lamb).
# No registry is needed: the image is made with `docker import`.
#
# Needs: go, docker (or DOCKER=podman), sha256sum, tar.
set -euo pipefail

DOCKER=${DOCKER:-docker}
PKG=${LAMB_IMAGE_PKG:-./cmd/lamb}
REPO=${LAMB_IMAGE_REPO:-lamb}
HERE=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "build-lamb-image: $*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/tmp"
chmod 1777 "$work/root/tmp"
(cd "$HERE" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/root/lamb" "$PKG")
# The image is useless without the init mode: say so now, not in a Pod.
if ! "$work/root/lamb" k8s-init --check >/dev/null 2>&1; then
	log "$PKG has no 'k8s-init' mode (cmd/lamb must register newKubeInitCmd)"
	exit 1
fi
tag=$(sha256sum "$work/root/lamb" | cut -c1-12)
img="$REPO:$tag"
if $DOCKER image inspect "$img" >/dev/null 2>&1; then
	log "reusing $img"
else
	tar -C "$work/root" --owner=0 --group=0 --numeric-owner -cf - lamb tmp |
		$DOCKER import --change 'ENTRYPOINT ["/lamb"]' --change 'WORKDIR /' - "$img" >/dev/null
	log "built $img"
fi
echo "$img"
