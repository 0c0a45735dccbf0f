#!/bin/sh
# Build PyInstaller's Linux bootloader from its pinned sdist with Python linked in, and
# install it into a virtualenv's PyInstaller (the same version, from requirements-build.txt).
#
#   packaging/pyinstaller/build-bootloader.sh [VENV]
#
# Why: Debian's libpython3.11.so is position-independent code with semantic interposition;
# the interpreter's static library (what /usr/bin/python3.11 is linked from) runs Python
# ~10-25% faster. Linked into the bootloader, with its symbols exported for the extension
# modules, no libpython is extracted at start either. See packaging/pyinstaller/README.md.
#
# Inputs (environment): PYTHON (default: VENV/bin/python, else python3): the interpreter
# whose static library is linked; it must be the one PyInstaller freezes with (Debian's).
# PYI_SDIST_FILE: a local copy of the sdist (offline builds; checked against the pinned
# sha256), else it is downloaded with pip. PYI_DOWNLOAD_ONLY=1: only fetch and verify the
# sdist, print its path. Needs gcc, patch, libpython3.11-dev (libpython3.11.a),
# zlib1g-dev, libexpat1-dev.
# Output: build/pyi-bootloader/run, copied over VENV's PyInstaller/bootloader/<platform>/run.
set -eu

PYI_VERSION=6.22.3
PYI_SDIST_SHA256=05eb2f5615503e72939a7224d68b4aff572c6b0438ee4a17d0a4b481f399362d
MARKER="injector: linked-python bootloader, onedir in place"

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/build/cache/pyinstaller
WORK=$ROOT/build/pyi-bootloader
SDIST=$CACHE/pyinstaller-$PYI_VERSION.tar.gz
venv=${1:-}
if [ -z "${PYTHON:-}" ]; then
    if [ -n "$venv" ]; then PYTHON=$venv/bin/python; else PYTHON=python3; fi
fi
case $PYTHON in */*) PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON") ;; esac

log() { printf 'pyi-bootloader: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# 1. The pinned sdist, cached and verified by sha256.
if ! sha_ok "$SDIST" "$PYI_SDIST_SHA256" && [ -n "${PYI_SDIST_FILE:-}" ]; then
    sha_ok "$PYI_SDIST_FILE" "$PYI_SDIST_SHA256" || die "sha256 mismatch for $PYI_SDIST_FILE"
    mkdir -p "$CACHE"
    cp "$PYI_SDIST_FILE" "$SDIST"
fi
if ! sha_ok "$SDIST" "$PYI_SDIST_SHA256"; then
    log "downloading pyinstaller==$PYI_VERSION sdist"
    mkdir -p "$CACHE"
    req=$CACHE/sdist-requirements.txt
    printf 'pyinstaller==%s --hash=sha256:%s\n' "$PYI_VERSION" "$PYI_SDIST_SHA256" >"$req"
    rm -f "$SDIST"
    # pip prepares the sdist's metadata with its build backend (fetched into an isolated
    # environment); only the sdist, checked by its hash, is kept.
    "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        --require-hashes -r "$req" -d "$CACHE"
    sha_ok "$SDIST" "$PYI_SDIST_SHA256" || die "sha256 mismatch for $SDIST"
fi
if [ "${PYI_DOWNLOAD_ONLY:-0}" = 1 ]; then echo "$SDIST"; exit 0; fi

for tool in gcc patch strip; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install gcc patch binutils)"
done

# 2. How the interpreter itself is linked: its static library and the libraries it needs.
eval "$("$PYTHON" - <<'EOF'
import os, shlex, sysconfig
v = sysconfig.get_config_var
lib = os.path.join(v("LIBPL"), v("LIBRARY"))
libs = " ".join(v(n) or "" for n in ("LIBS", "SYSLIBS", "MODLIBS"))
print(f"LIBPYTHON={shlex.quote(lib)} PYLIBS={shlex.quote(' '.join(dict.fromkeys(libs.split())))}")
print(f"PYVER={shlex.quote(v('VERSION'))}")
EOF
)"
[ -f "$LIBPYTHON" ] || die "$LIBPYTHON not found (apt-get install libpython$PYVER-dev)"

# 3. Pristine source + our patches, then waf (bundled in the sdist) builds the release bootloader.
rm -rf "$WORK"
mkdir -p "$WORK"
tar -xzf "$SDIST" -C "$WORK"
SRC=$WORK/pyinstaller-$PYI_VERSION
for p in "$HERE"/patches/*.patch; do
    log "applying $(basename "$p")"
    patch -d "$SRC" -p1 -s --no-backup-if-mismatch <"$p"
done
(
    cd "$SRC/bootloader"
    # waf puts LINKFLAGS before the objects and LDFLAGS after the libraries: the static
    # library is linked whole (every C-API function an extension module may call), without
    # PIE (it is not position-independent code), its symbols exported (-E), as Python's own
    # executable is linked.
    export CFLAGS="-DPYI_LINKED_PYTHON" LINKFLAGS="-no-pie -Wl,-E"
    # shellcheck disable=SC2086 # one word per library
    export LDFLAGS="-Wl,--no-as-needed -Wl,--whole-archive $LIBPYTHON -Wl,--no-whole-archive $PYLIBS"
    "$PYTHON" ./waf configure >"$WORK/configure.log" 2>&1 || { tail -20 "$WORK/configure.log" >&2; exit 1; }
    "$PYTHON" ./waf build_release >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
)
cp "$SRC/bootloader/build/release/run" "$WORK/run"
grep -q "$MARKER" "$WORK/run" || die "the built bootloader lacks its marker"
log "built $WORK/run ($(wc -c <"$WORK/run") bytes, sha256 $(sha256sum "$WORK/run" | cut -d' ' -f1))"

# 4. Over the stock one in VENV's PyInstaller.
if [ -n "$venv" ]; then
    dest=$("$venv/bin/python" -c 'import os, PyInstaller as p; print(os.path.join(os.path.dirname(p.__file__), "bootloader", p.PLATFORM, "run"))')
    have=$("$venv/bin/python" -c 'import PyInstaller; print(PyInstaller.__version__)')
    [ "$have" = "$PYI_VERSION" ] || die "$venv has PyInstaller $have, the bootloader is $PYI_VERSION's"
    cp "$WORK/run" "$dest"
    log "installed into $dest"
fi
