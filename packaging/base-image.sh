#!/bin/sh
# Build the build container's base image from Debian packages, for machines that reach a
# Debian mirror but no image registry: debootstrap + `docker import`.
#
#   packaging/base-image.sh [IMAGE]          (default IMAGE: injector-base:bookworm)
#
# Inputs (environment): DEBIAN_MIRROR (or MIRROR; default: the first bookworm mirror in
# this machine's apt sources, see packaging/host-sources.sh), SUITE (bookworm),
# ARCH (a Debian architecture, default this machine's; another one, e.g. arm64, is
# debootstrapped through qemu-user-static: packaging/qemu-binfmt.sh registers it for the
# run), DOCKER (docker). Needs root, debootstrap and docker.
set -eu

IMAGE=${1:-injector-base:bookworm}
SUITE=${SUITE:-bookworm}
DOCKER=${DOCKER:-docker}
ARCH=${ARCH:-$(dpkg --print-architecture)}
PACKAGES=python3,python3-venv,libpython3.11,libpython3.11-dev,zlib1g-dev,libexpat1-dev,binutils,patchelf,musl-tools,scons,gcc,libc6-dev,patch,ca-certificates,git

log() { printf 'base-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
HOST_ARCH=$(dpkg --print-architecture)
if [ "$ARCH" != "$HOST_ARCH" ] && [ -z "${INJECTOR_BINFMT_RUN:-}" ]; then
    # Emulated: run again inside a binfmt registration that is removed afterwards.
    exec "$(dirname "$0")/qemu-binfmt.sh" "$ARCH" run "$0" "$@"
fi
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install debootstrap)"

MIRROR=${MIRROR:-${DEBIAN_MIRROR:-$("$(dirname "$0")/host-sources.sh" debian-mirror "$SUITE" "$ARCH")}}
[ -n "$MIRROR" ] || die "no $SUITE mirror in the apt sources; set DEBIAN_MIRROR=URL"

ROOTFS=$(mktemp -d /var/tmp/injector-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
log "debootstrap $SUITE $ARCH from $MIRROR (packages: $PACKAGES)"
debootstrap --arch="$ARCH" --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
    tail -n 30 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; die "debootstrap failed"; }
rm -f "$ROOTFS.log"

# Trim what an image does not need, and record what is inside.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/var/log/*
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOTFS/etc/apt/sources.list"
chroot "$ROOTFS" dpkg-query -W -f '${Package} ${Version}\n' | sort >"$ROOTFS/etc/injector-base-packages.txt"

log "importing as $IMAGE"
tar --numeric-owner --sort=name -C "$ROOTFS" -c . |
    "$DOCKER" import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8' \
        -c 'CMD ["/bin/bash"]' -c "LABEL org.injector.arch=$ARCH" \
        -m "injector build base: debootstrap $SUITE $ARCH from $MIRROR" - "$IMAGE" >/dev/null
log "built $IMAGE ($(chroot "$ROOTFS" python3 --version 2>&1))"
