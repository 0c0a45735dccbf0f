#!/bin/sh
# Fetch every Python file the build container installs, on this machine and natively, into
# DIR, each checked against its pinned sha256: the wheels of requirements-build.txt for the
# target CPU, staticx's build tools (packaging/staticx/build-requirements.txt) and the
# staticx and PyInstaller sdists. The container then installs from DIR with no index (`--no-index`): its
# build needs no network, and an emulated (arm64) build does no slow TLS downloads.
#
#   packaging/fetch-build-deps.sh DIR CPU          (CPU: x86_64 or aarch64)
#
# Environment: PYTHON (a python with pip; default .venv/bin/python, else python3),
# BUILD_PIP_INDEX_URL / BUILD_PIP_EXTRA_INDEX_URL (default: packaging/host-sources.sh, i.e.
# this machine's pip configuration; empty: pip's default), PIP_CERT (CA bundle for the index;
# default: this machine's pip `cert`, else the system bundle). pip runs --isolated so that
# local wheel directories and constraints of this machine cannot change what is fetched.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DEST=$1
CPU=$2
log() { printf 'fetch-build-deps: %s\n' "$*" >&2; }

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
INDEX=${BUILD_PIP_INDEX_URL-$("$HERE/host-sources.sh" pip-index)}
EXTRA=${BUILD_PIP_EXTRA_INDEX_URL-$("$HERE/host-sources.sh" pip-extra-index)}
CERT=${PIP_CERT:-$("$PYTHON" -m pip config get global.cert 2>/dev/null || echo /etc/ssl/certs/ca-certificates.crt)}

pip_download() { # ARGS...
    # shellcheck disable=SC2086 # one word per extra index
    "$PYTHON" -m pip download --isolated -q --disable-pip-version-check --cert "$CERT" \
        ${INDEX:+--index-url "$INDEX"} $(for u in $EXTRA; do printf -- '--extra-index-url %s ' "$u"; done) \
        --no-deps --require-hashes -d "$DEST" "$@"
}

mkdir -p "$DEST"
log "wheels for $CPU into $DEST${INDEX:+ from $INDEX}"
pip_download --only-binary :all: --platform "manylinux2014_$CPU" --python-version 3.11 \
    --implementation cp -r "$HERE/requirements-build.txt"
pip_download --only-binary :all: -r "$HERE/staticx/build-requirements.txt"
sdist=$(STATICX_DOWNLOAD_ONLY=1 PYTHON=${STATICX_PYTHON:-/usr/bin/python3} "$HERE/staticx/build.sh")
cp "$sdist" "$DEST/"
sdist=$(PYI_DOWNLOAD_ONLY=1 PYTHON=$PYTHON "$HERE/pyinstaller/build-bootloader.sh")
cp "$sdist" "$DEST/"
log "$(ls "$DEST" | wc -l) files"
