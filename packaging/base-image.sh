#!/bin/sh
# Build the build container's base image from Debian packages, for machines that reach a
# Debian mirror but no image registry: debootstrap + `docker import`.
#
#   packaging/base-image.sh [IMAGE]          (default IMAGE: injector-base:bookworm)
#
# Inputs (environment): MIRROR (default: the first bookworm mirror in this machine's apt
# sources, /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list), SUITE (bookworm),
# DOCKER (docker). Needs root, debootstrap and docker.
set -eu

IMAGE=${1:-injector-base:bookworm}
SUITE=${SUITE:-bookworm}
DOCKER=${DOCKER:-docker}
PACKAGES=python3,python3-venv,libpython3.11,binutils,patchelf,musl-tools,scons,gcc,libc6-dev,patch,ca-certificates,git

log() { printf 'base-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (apt-get install debootstrap)"

mirror_from_apt() {
    # deb822 stanzas first: the URIs of a stanza whose Suites name $SUITE itself.
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            /^[[:space:]]*$/ { if (uris != "" && ok) { print uris; exit } uris = ""; ok = 0; next }
            /^URIs:/ { uris = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
            END { if (uris != "" && ok) print uris }
        ' "$f" | head -n 1
    done | head -n 1
    [ -f /etc/apt/sources.list ] &&
        awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list
}

MIRROR=${MIRROR:-$(mirror_from_apt | head -n 1)}
[ -n "$MIRROR" ] || die "no $SUITE mirror in the apt sources; set MIRROR=http://..."

ROOTFS=$(mktemp -d /var/tmp/injector-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
log "debootstrap $SUITE from $MIRROR (packages: $PACKAGES)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
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
        -c 'CMD ["/bin/bash"]' \
        -m "injector build base: debootstrap $SUITE from $MIRROR" - "$IMAGE" >/dev/null
log "built $IMAGE ($(chroot "$ROOTFS" python3 --version 2>&1))"
