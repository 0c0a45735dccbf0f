#!/usr/bin/env bash
# Build a local stand-in for motoserver/moto (docker-compose.test.yml's MOTO_IMAGE) without
# any image registry: injector-test/debian-python plus moto[server] at the version
# pyproject.toml pins, installed from wheels that the host's pip downloads.
#
#   tests/e2e/compose/build-moto-image.sh        # prints the tag, e.g. injector-test/moto:5.2.5
#
# Up to date (same base image, version and this script): nothing is rebuilt. pip runs on the
# host with the host's pip configuration; behind a TLS-inspecting proxy or a private index
# set PIP_CERT / PIP_INDEX_URL / PIP_EXTRA_INDEX_URL as for any pip. The image build itself
# runs with --network none.
#
# Environment:
#   MOTO_BASE_IMAGE   base image with python3 (default injector-test/debian-python:latest)
#   PIP               pip used for the download (default .venv/bin/pip)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BASE="${MOTO_BASE_IMAGE:-injector-test/debian-python:latest}"
PIP="${PIP:-$ROOT/.venv/bin/pip}"
VERSION="$(sed -n 's/.*"moto\[server\]==\([^"]*\)".*/\1/p' "$ROOT/pyproject.toml")"
[ -n "$VERSION" ] || { echo "build-moto-image: no moto[server]==X pin in pyproject.toml" >&2; exit 1; }
TAG="injector-test/moto:$VERSION"
LABEL=injector-test.inputs

docker image inspect "$BASE" >/dev/null 2>&1 ||
    { echo "build-moto-image: $BASE is missing (tests/e2e/images/build-images.sh debian)" >&2; exit 1; }
pip_version="$("$PIP" --version | awk '{print $2}')"
inputs="$( { docker image inspect --format '{{.Id}}' "$BASE"; echo "$VERSION $pip_version";
             cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -d' ' -f1)"
if [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$TAG" 2>/dev/null)" = "$inputs" ]; then
    echo "$TAG"
    exit 0
fi

ctx="$ROOT/build/e2e-compose/moto"
rm -rf "$ctx"
mkdir -p "$ctx/wheels"
"$PIP" download -q --disable-pip-version-check --only-binary=:all: --dest "$ctx/wheels" \
    "moto[server]==$VERSION" "pip==$pip_version" >&2
pip_wheel="$(cd "$ctx/wheels" && ls pip-"$pip_version"-*.whl)"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE
COPY wheels /tmp/wheels
RUN python3 /tmp/wheels/$pip_wheel/pip install -q --no-index --find-links /tmp/wheels \\
        --no-cache-dir --break-system-packages --root-user-action=ignore "moto[server]==$VERSION" \\
    && rm -rf /tmp/wheels
EXPOSE 5000
ENTRYPOINT ["python3", "-m", "moto.server", "-H", "0.0.0.0", "-p", "5000"]
DOCKERFILE
docker build -q --network none --label "$LABEL=$inputs" -t "$TAG" "$ctx" >&2
echo "$TAG"
