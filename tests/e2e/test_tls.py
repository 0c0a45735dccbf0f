"""The static binary speaks TLS: in busybox (no CA store) it trusts a test CA via AWS_CA_BUNDLE.

moto sits behind our TLS relay (tests/support/tls.py) on 127.0.0.1; the container reaches it
with ``--network host`` and gets the CA certificate mounted read-only. Without the bundle the
frozen botocore's own CA bundle does not trust the test CA: 69, saying so.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BUCKET, Docker, Moto, container_aws_env

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.tls import TlsFiles, TlsRelay, make_ca  # noqa: E402

pytestmark = pytest.mark.container

VALUE = "e2e-tls-secret-value"
KEY = "tls/secret"
BUNDLE = "/run/test-ca.pem"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """Make a test CA whose certificate the container can read."""
    files = make_ca(tmp_path_factory.mktemp("tls"))
    files.ca.chmod(0o644)
    files.ca.parent.chmod(0o755)
    return files


@pytest.fixture(scope="module")
def relay(moto: Moto, tls_files: TlsFiles) -> Iterator[TlsRelay]:
    """Return a TLS relay in front of the session's moto, with the secret stored."""
    moto.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=VALUE.encode())
    server = TlsRelay(moto.url, tls_files).start()
    try:
        yield server
    finally:
        server.stop()


def test_busybox_trusts_the_ca_bundle_mounted_in(
    docker: Docker, images: dict[str, str], relay: TlsRelay, tls_files: TlsFiles
) -> None:
    """The secret arrives over TLS in busybox when AWS_CA_BUNDLE names the mounted CA."""
    env = container_aws_env(
        Moto(relay.url), SECRET=f"ref+s3://{BUCKET}/{KEY}", AWS_CA_BUNDLE=BUNDLE
    )
    options = ["--network", "host", "-v", f"{tls_files.ca}:{BUNDLE}:ro"]
    done = docker.run(
        images["busybox"], ["sh", "-c", 'printf %s "$SECRET" | sha256sum'], env=env, options=options
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == hashlib.sha256(VALUE.encode()).hexdigest()
    assert VALUE not in done.stderr


def test_busybox_without_the_bundle_says_the_certificate_is_not_trusted(
    docker: Docker, images: dict[str, str], relay: TlsRelay
) -> None:
    """Without AWS_CA_BUNDLE the test CA is not trusted: 69 and the message that says so."""
    env = container_aws_env(Moto(relay.url), SECRET=f"ref+s3://{BUCKET}/{KEY}")
    done = docker.run(
        images["busybox"], ["sh", "-c", "echo STARTED"], env=env, options=["--network", "host"]
    )
    assert done.returncode == 69, done.stderr
    assert "STARTED" not in done.stdout
    failed = json.loads(done.stderr.strip().splitlines()[-1])
    assert failed["error"] == "TLS certificate not trusted; AWS_CA_BUNDLE names a bundle"
