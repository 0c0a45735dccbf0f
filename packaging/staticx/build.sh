#!/bin/sh
# Build staticx from its pinned PyPI sdist with injector's bootloader patch and
# (optionally) install the wheel into a virtualenv.
#
#   packaging/staticx/build.sh [VENV]
#
# Inputs (environment): PYTHON (default python3) creates the build venv;
# STATICX_SDIST_FILE, a local copy of the sdist for offline builds (checked
# against the pinned sha256, else it is downloaded with pip);
# STATICX_DOWNLOAD_ONLY=1 (only fetch and verify the sdist; prints its path);
# BOOTLOADER_CC (default musl-gcc); SCONSFLAGS (default -j<cpus>); SOURCE_DATE_EPOCH (default: the sdist's
# own timestamp, so the wheel is stable). Needs scons, musl-tools, gcc, patch.
# Outputs: build/staticx-wheel/staticx-<version>-*.whl; with VENV, that wheel
# is installed there (pip install --force-reinstall --no-deps).
set -eu

STATICX_VERSION=0.14.2
STATICX_SDIST_SHA256=bf7d5d35d5777a72b2d4c408eb25f9c61049b28b94a388a012122dba00fffa93

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build
CACHE=$BUILD/cache/staticx
WORK=$BUILD/staticx-build
OUT=$BUILD/staticx-wheel
SDIST=$CACHE/staticx-$STATICX_VERSION.tar.gz
PYTHON=${PYTHON:-python3}
export BOOTLOADER_CC="${BOOTLOADER_CC:-musl-gcc}"
# scons compiles the bootloader's files in parallel (the output does not depend on the
# order: patch 0004 fixes the link order); under emulation (arm64) compiling dominates.
export SCONSFLAGS="${SCONSFLAGS:--j$(nproc)}"
export PYTHONHASHSEED=0

venv_target=${1:-}
log() { printf 'staticx-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in scons "$BOOTLOADER_CC" gcc patch objcopy readelf; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install scons musl-tools gcc patch binutils)"
done

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# 1. Build venv with pinned setuptools/wheel (no build isolation later on).
BVENV=$WORK/venv
reqsum=$(sha256sum "$HERE/build-requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$BVENV/.requirements.sha256" 2>/dev/null)" != "$reqsum" ]; then
    log "creating build venv $BVENV"
    rm -rf "$BVENV"
    "$PYTHON" -m venv "$BVENV"
    "$BVENV/bin/pip" install -q --disable-pip-version-check --require-hashes \
        -r "$HERE/build-requirements.txt"
    echo "$reqsum" >"$BVENV/.requirements.sha256"
fi

# 2. The pinned sdist, cached and verified by sha256.
if ! sha_ok "$SDIST" "$STATICX_SDIST_SHA256" && [ -n "${STATICX_SDIST_FILE:-}" ]; then
    sha_ok "$STATICX_SDIST_FILE" "$STATICX_SDIST_SHA256" || die "sha256 mismatch for $STATICX_SDIST_FILE"
    mkdir -p "$CACHE"
    cp "$STATICX_SDIST_FILE" "$SDIST"
fi
if ! sha_ok "$SDIST" "$STATICX_SDIST_SHA256"; then
    log "downloading staticx==$STATICX_VERSION sdist"
    mkdir -p "$CACHE"
    req=$WORK/sdist-requirements.txt
    printf 'staticx==%s --hash=sha256:%s\n' "$STATICX_VERSION" "$STATICX_SDIST_SHA256" >"$req"
    rm -f "$SDIST"
    "$BVENV/bin/pip" download -q --disable-pip-version-check --no-deps \
        --no-binary :all: --no-build-isolation --require-hashes -r "$req" -d "$CACHE"
    sha_ok "$SDIST" "$STATICX_SDIST_SHA256" || die "sha256 mismatch for $SDIST"
fi
# STATICX_DOWNLOAD_ONLY=1: stop here (make build-image fetches on the host, natively).
if [ "${STATICX_DOWNLOAD_ONLY:-0}" = 1 ]; then echo "$SDIST"; exit 0; fi

# 3. Pristine source + our files + patches.
SRC=$WORK/staticx-$STATICX_VERSION
rm -rf "$SRC"
tar -xzf "$SDIST" -C "$WORK"
cp "$HERE/src/sxinit.c" "$HERE/src/sxinit.h" "$SRC/bootloader/"
for p in "$HERE"/patches/*.patch; do
    log "applying $(basename "$p")"
    patch -d "$SRC" -p1 -s --no-backup-if-mismatch <"$p"
done

# 4. Wheel (scons builds the musl bootloader through setup.py).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$("$BVENV/bin/python" -c \
        'import sys, tarfile; print(int(max(m.mtime for m in tarfile.open(sys.argv[1]))))' "$SDIST")
    export SOURCE_DATE_EPOCH
fi
mkdir -p "$OUT"
rm -f "$OUT"/staticx-*.whl
log "building wheel (BOOTLOADER_CC=$BOOTLOADER_CC)"
(cd "$SRC" && "$BVENV/bin/pip" wheel -q --disable-pip-version-check --no-deps \
    --no-build-isolation -w "$OUT" .) >"$WORK/wheel.log" 2>&1 || {
    cat "$WORK/wheel.log" >&2; die "wheel build failed"; }
WHEEL=$(ls "$OUT"/staticx-*.whl)
for mode in release debug; do
    bl=$SRC/staticx/assets/$mode/bootloader
    [ -x "$bl" ] || die "$mode bootloader missing"
    ! readelf -l "$bl" | grep -q 'INTERP' || die "$mode bootloader is not statically linked"
done
log "built $WHEEL"
log "bootloader sha256 $(sha256sum "$SRC/staticx/assets/release/bootloader" | cut -d' ' -f1)"

# 5. Install into the given venv.
if [ -n "$venv_target" ]; then
    [ -x "$venv_target/bin/pip" ] || die "$venv_target is not a virtualenv (no bin/pip)"
    "$venv_target/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
    log "installed into $venv_target: $("$venv_target/bin/staticx" --version 2>&1)"
fi
echo "$WHEEL"
