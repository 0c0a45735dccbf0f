#!/usr/bin/env bash
# Build injector-test/busybox-arm64: Debian's busybox-static for arm64 and its applet links,
# nothing else, for the emulated arm64 smoke test (tests/e2e/test_arm64.py). No registry:
# the .deb comes from this machine's Debian mirror through a private apt configuration
# (the host's own apt state and architectures are not touched), signed by Debian's archive
# key like any apt download.
#
#   tests/e2e/images/build-busybox-arm64.sh [--force]
#
# Needs root (chroot), apt, dpkg-deb, docker, and qemu-aarch64 in binfmt_misc for the
# `busybox --install -s` run (packaging/qemu-binfmt.sh arm64 run ... provides it; this
# script calls it itself when the entry is missing). An image whose label matches the .deb's
# sha256 is not rebuilt. Environment: INJECTOR_TEST_IMAGE_CACHE (default build/test-images),
# INJECTOR_TEST_DEBIAN_MIRROR (default: this machine's apt sources), INJECTOR_TEST_IMAGE_BUSYBOX_ARM64
# (the tag, default injector-test/busybox-arm64:latest).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
CACHE="${INJECTOR_TEST_IMAGE_CACHE:-$ROOT/build/test-images}"
TAG="${INJECTOR_TEST_IMAGE_BUSYBOX_ARM64:-injector-test/busybox-arm64:latest}"
LABEL=injector-test.inputs
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
FORCE=0
[ "${1:-}" = --force ] && FORCE=1

say() { echo "build-busybox-arm64: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (chroot)"
if [ -z "${INJECTOR_BINFMT_RUN:-}" ]; then
    exec "$ROOT/packaging/qemu-binfmt.sh" arm64 run "$0" "$@"
fi

# 1. busybox-static:arm64 through a private apt (own sources, lists, cache; arm64 only).
APT="$CACHE/apt-arm64"
mirror="${INJECTOR_TEST_DEBIAN_MIRROR:-$("$ROOT/packaging/host-sources.sh" debian-mirror bookworm arm64)}"
[ -n "$mirror" ] || die "no bookworm mirror in the apt sources; set INJECTOR_TEST_DEBIAN_MIRROR"
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/debs"
printf 'deb [arch=arm64 signed-by=%s] %s bookworm main\n' "$KEYRING" "$mirror" >"$APT/sources.list"
apt_opts=(
    -o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/none"
    -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT" -o "Dir::Cache::Archives=$APT/archives"
    -o "APT::Architecture=arm64" -o "APT::Architectures=arm64" -o "Acquire::Languages=none"
    -o "Dir::State::Status=$APT/status" -q
)
: >"$APT/status"
if ! ls "$APT"/debs/busybox-static_*_arm64.deb >/dev/null 2>&1; then
    say "apt-get download busybox-static:arm64 from $mirror"
    apt-get "${apt_opts[@]}" update >&2
    (cd "$APT/debs" && apt-get "${apt_opts[@]}" download busybox-static:arm64 >&2)
fi
deb="$(ls "$APT"/debs/busybox-static_*_arm64.deb | tail -n 1)"
hash="$(sha256sum "$deb" | cut -d' ' -f1)-$(sha256sum "$0" | cut -c1-16)"
if [ "$FORCE" = 0 ] &&
    [ "$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$TAG" 2>/dev/null)" = "$hash" ]; then
    say "$TAG is up to date"
    exit 0
fi

# 2. The tree: /bin/busybox, its links, /tmp 1777, root and nobody.
mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/busybox-arm64.XXXXXX")"
trap 'rm -rf --one-file-system "$WORK"' EXIT
dpkg-deb -x "$deb" "$WORK/x"
dir="$WORK/root"
mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin" "$dir/root" "$dir/tmp" "$dir/etc"
install -m 0755 "$WORK/x/bin/busybox" "$dir/bin/busybox"
case "$(file -b "$dir/bin/busybox")" in
    *ARM\ aarch64*statically\ linked* | *ARM\ aarch64*static-pie*) ;;
    *) die "not a static aarch64 busybox: $(file -b "$dir/bin/busybox")" ;;
esac
chroot "$dir" /bin/busybox --install -s
chmod 1777 "$dir/tmp"
chmod 0700 "$dir/root"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
tar --numeric-owner --sort=name -C "$dir" -c . |
    docker import -c "LABEL $LABEL=$hash" -c "LABEL org.injector.arch=arm64" \
        -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        -c 'CMD ["/bin/sh"]' - "$TAG" >/dev/null
out="$(docker run --rm --pull never --network none "$TAG" /bin/sh -c 'uname -m; id -u nobody')"
[ "$out" = $'aarch64\n65534' ] || die "$TAG check failed: $out"
say "built $TAG ($(basename "$deb"))"
