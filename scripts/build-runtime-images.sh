#!/usr/bin/env bash
# Builds lamb's stand-in runtime images: local images with the layout of AWS's
# Lambda base images (/lambda-entrypoint.sh, /var/runtime/bootstrap, /var/task,
# /opt), made from a Debian rootfs (debootstrap, minbase) and `docker import`,
# since no container registry is reachable where lamb is tested.
#
#   scripts/build-runtime-images.sh            # prints python=IMAGE, nodejs=IMAGE, provided=IMAGE, java=IMAGE
#
# Images are tagged with a hash of their inputs (this script, the bootstraps,
# the mirror, the suite); an image already built from the same inputs is
# reused, so running it again is instant. The debootstrap rootfs and each
# family's finished rootfs (tarballs this script made, keyed by the same
# hash) are cached in LAMB_IMAGE_CACHE (default /var/cache/lamb-images), so
# an engine with an empty data root (CI starts one per run) gets its images
# with one `docker import` each.
#
# Needs: root, debootstrap, docker (or DOCKER=podman), sha256sum; javac (JDK 17+) for the java image.
set -euo pipefail

DOCKER=${DOCKER:-docker}
SUITE=${LAMB_DEBIAN_SUITE:-bookworm}
CACHE=${LAMB_IMAGE_CACHE:-/var/cache/lamb-images}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY_BOOT="$HERE/runtimes/python/bootstrap.py"
NODE_BOOT="$HERE/runtimes/nodejs/bootstrap.mjs"
JAVA_SRC="$HERE/runtimes/java/src"

log() { echo "build-runtime-images: $*" >&2; }

# The mirror apt already uses (deb822 sources first, then the one-line format).
mirror() {
	local m=""
	if [ -n "${LAMB_DEBIAN_MIRROR:-}" ]; then echo "$LAMB_DEBIAN_MIRROR"; return; fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		m=$(awk '/^URIs:/ {print $2; exit}' "$f")
		[ -n "$m" ] && case "$m" in *security*) m="";; esac
		[ -n "$m" ] && break
	done
	if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
		m=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

MIRROR=$(mirror)
SELF_SUM=$(sha256sum "$0" | cut -c1-64)

# packages per family (the base is minbase, which has /bin/sh for provided bootstraps)
packages() {
	case "$1" in
	python) echo "python3 python3-debugpy";; # debugpy: lamb serve --debug (docs/debugging.md)
	nodejs) echo "nodejs";;
	provided) echo "";;
	java) echo "openjdk-17-jre-headless";;
	esac
}

inputs_hash() {
	local fam=$1
	{
		echo "$SELF_SUM $SUITE $MIRROR $fam $(packages "$fam")"
		# Contents only: the same image from every checkout.
		case "$fam" in
		python) sha256sum <"$PY_BOOT";;
		nodejs) sha256sum <"$NODE_BOOT";;
		java) (cd "$JAVA_SRC" && find . -name '*.java' | LC_ALL=C sort | xargs sha256sum);;
		esac
	} | sha256sum | cut -c1-12
}

# base_rootfs prints the path of a cached minbase tarball, building it once.
base_rootfs() {
	local key tarball dir
	key=$(echo "$SELF_SUM $SUITE $MIRROR" | sha256sum | cut -c1-12)
	tarball="$CACHE/base-$SUITE-$key.tar"
	if [ ! -f "$tarball" ]; then
		mkdir -p "$CACHE"
		dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
		log "debootstrap --variant=minbase $SUITE from $MIRROR (once)"
		debootstrap --variant=minbase "$SUITE" "$dir" "$MIRROR" >&2
		tar -C "$dir" -cf "$tarball.tmp" .
		rm -rf "$dir"
		mv "$tarball.tmp" "$tarball"
	fi
	echo "$tarball"
}

# build_family FAMILY prints FAMILY=IMAGE after making sure IMAGE exists.
build_family() {
	local fam=$1 tag image tarball
	tag=$(inputs_hash "$fam")
	image="lamb-runtime-$fam:$tag"
	if "$DOCKER" image inspect "$image" >/dev/null 2>&1; then
		echo "$fam=$image"
		return
	fi
	tarball="$CACHE/$fam-$tag.tar"
	if [ -f "$tarball" ]; then
		touch "$tarball" # in use: see the pruning below
	else
		family_rootfs "$fam" "$tarball"
		# Those no checkout used for two weeks (other inputs: an older
		# script or bootstrap). Not all but this one: two checkouts of
		# different versions would delete each other's at every run.
		find "$CACHE" -maxdepth 1 -name "$fam-*.tar" -mtime +14 -delete
	fi
	log "importing $image"
	"$DOCKER" import \
		--change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
		--change 'WORKDIR /var/task' \
		--change 'ENV LAMBDA_TASK_ROOT=/var/task' \
		--change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
		--change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
		--change "LABEL lamb.runtime-image=$fam" \
		- "$image" <"$tarball" >/dev/null
	echo "$fam=$image"
}

# family_rootfs FAMILY TARBALL makes FAMILY's root filesystem as TARBALL.
family_rootfs() {
	local fam=$1 tarball=$2 dir pkgs
	dir=$(mktemp -d "$CACHE/$fam.XXXXXX")
	trap 'umount -l "$dir/proc" 2>/dev/null || true; rm -rf "$dir"; trap - RETURN' RETURN
	tar -C "$dir" -xf "$(base_rootfs)"
	pkgs=$(packages "$fam")
	if [ -n "$pkgs" ]; then
		log "installing $pkgs for $fam"
		cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
		mount -t proc proc "$dir/proc"
		# shellcheck disable=SC2086
		chroot "$dir" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs" >&2
		umount -l "$dir/proc"
	fi
	# AWS's base image layout.
	mkdir -p "$dir/var/task" "$dir/var/runtime" "$dir/opt"
	cat >"$dir/lambda-entrypoint.sh" <<'SH'
#!/bin/sh
# lamb stand-in for AWS's /lambda-entrypoint.sh: runs the runtime's bootstrap
# against the Runtime API named by AWS_LAMBDA_RUNTIME_API (there is no emulator).
if [ $# -ne 1 ]; then
	echo "entrypoint requires the handler name to be the first argument" >&2
	exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
	echo "AWS_LAMBDA_RUNTIME_API is not set (this stand-in image has no emulator)" >&2
	exit 1
fi
if [ -x /var/runtime/bootstrap ]; then exec /var/runtime/bootstrap; fi
exec /var/task/bootstrap
SH
	chmod 0755 "$dir/lambda-entrypoint.sh"
	case "$fam" in
	python)
		install -m 0644 "$PY_BOOT" "$dir/var/runtime/bootstrap.py"
		printf '#!/bin/sh\nexec /usr/bin/python3 -u /var/runtime/bootstrap.py "$@"\n' >"$dir/var/runtime/bootstrap"
		chmod 0755 "$dir/var/runtime/bootstrap";;
	nodejs)
		install -m 0644 "$NODE_BOOT" "$dir/var/runtime/bootstrap.mjs"
		printf '#!/bin/sh\nexec /usr/bin/node /var/runtime/bootstrap.mjs "$@"\n' >"$dir/var/runtime/bootstrap"
		chmod 0755 "$dir/var/runtime/bootstrap";;
	java)
		# lamb's java bootstrap (runtimes/java), compiled here: the image has a JRE only.
		mkdir -p "$dir/var/runtime/classes"
		# shellcheck disable=SC2046
		javac --release 17 -nowarn -d "$dir/var/runtime/classes" $(find "$JAVA_SRC" -name '*.java' | LC_ALL=C sort) >&2
		cat >"$dir/var/runtime/bootstrap" <<'SH'
#!/bin/sh
# JDWP under lamb serve --debug (docs/debugging.md): LAMB_DEBUG_PORT, LAMB_DEBUG_WAIT.
if [ -n "${LAMB_DEBUG_PORT:-}" ]; then
	suspend=n
	[ "${LAMB_DEBUG_WAIT:-}" = 1 ] && suspend=y
	set -- "-agentlib:jdwp=transport=dt_socket,server=y,suspend=$suspend,address=${LAMB_DEBUG_HOST:-127.0.0.1}:$LAMB_DEBUG_PORT" "$@"
fi
exec /usr/bin/java -XX:+TieredCompilation -XX:TieredStopAtLevel=1 "$@" -cp /var/runtime/classes lamb.runtime.Bootstrap
SH
		chmod 0755 "$dir/var/runtime/bootstrap";;
	esac
	# Keep the image small.
	rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
		"$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
		"$dir"/usr/share/locale/* "$dir"/var/log/*
	: >"$dir/etc/resolv.conf"
	tar -C "$dir" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
}

mkdir -p "$CACHE"
for fam in ${LAMB_IMAGE_FAMILIES:-python nodejs provided java}; do
	if [ "$fam" = java ] && ! command -v javac >/dev/null; then
		log "skipping java: no javac (a JDK 17+, scripts/setup.sh) to compile lamb's java bootstrap"
		continue
	fi
	build_family "$fam"
done
