"""TLS, as every real AWS call speaks it: moto behind our TLS relay with a certificate of a test CA.

injector trusts the CA only through AWS_CA_BUNDLE; without it (botocore's own bundle) or with
a bundle of another CA, the certificate is not trusted: 69 with a message that says so and
names the knob, instead of "transport failure (SSLError)".
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import runner
from tests.support.tls import TlsFiles, TlsRelay, make_ca

pytestmark = pytest.mark.security

UNTRUSTED = "TLS certificate not trusted; AWS_CA_BUNDLE names a bundle"
VALUES = {
    "S3": b"tls-s3-object-value",
    "SSM": b"tls-ssm-value",
    "SM": b"tls-sm-value",
    "KMS": b"tls-kms-plaintext",
}


@pytest.fixture
def tls_files(tmp_path) -> TlsFiles:
    """Make a fresh test CA and a server certificate for 127.0.0.1."""
    return make_ca(tmp_path / "ca")


@pytest.fixture
def relay(moto, tls_files) -> Iterator[TlsRelay]:
    """Return a TLS relay in front of moto."""
    server = TlsRelay(moto.url, tls_files).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stores(seed) -> dict[str, str]:
    """Seed one secret per backend; return variable -> reference."""
    seed.object("tls", "app/secret", VALUES["S3"])
    seed.parameter("/tls/param", VALUES["SSM"].decode())
    seed.secret("tls/secret", VALUES["SM"].decode())
    blob = seed.kms_encrypt(VALUES["KMS"])
    return {
        "S3": "ref+s3://tls/app/secret",
        "SSM": "ref+awsssm://tls/param",
        "SM": "ref+awssecrets://tls/secret",
        "KMS": f"ref+awskms://{blob}",
    }


def over_tls(aws_env, relay: TlsRelay, **extra: str) -> dict[str, str]:
    """Return the environment for injector talking TLS to the relay."""
    return {
        **aws_env,
        "AWS_ENDPOINT_URL": relay.url,
        "PATH": os.environ["PATH"],
        "INJECTOR_TIMEOUT": "20",
        **extra,
    }


def test_every_backend_over_tls_trusting_the_ca_bundle(aws_env, relay, tls_files, stores) -> None:
    """With AWS_CA_BUNDLE naming the test CA, every backend's secret arrives over TLS."""
    env = over_tls(aws_env, relay, AWS_CA_BUNDLE=str(tls_files.ca), **stores)
    result = runner.run(env, "env", "-0", target_prints=True)
    child = result.child_env()
    assert {name: child[name.encode()] for name in VALUES} == VALUES
    assert relay.handshakes_failed == 0


def test_put_over_tls_trusting_the_ca_bundle(aws_env, relay, tls_files, moto) -> None:
    """Store writes take the same TLS path as reads."""
    env = over_tls(aws_env, relay, AWS_CA_BUNDLE=str(tls_files.ca))
    result = runner.run(env, "put", "ref+awsssm://tls/written", stdin=b"tls-written-value")
    assert result.code == 0, result.err
    parameter = moto.client("ssm").get_parameter(Name="/tls/written", WithDecryption=True)
    assert parameter["Parameter"]["Value"] == "tls-written-value"


@pytest.mark.parametrize("bundle", ["none", "other_ca"])
def test_untrusted_certificate_says_so_and_names_the_bundle(
    aws_env,
    relay,
    stores,
    tmp_path,
    bundle,
) -> None:
    """Without our CA in the bundle: 69, "TLS certificate not trusted", never the SSLError name."""
    extra = (
        {"AWS_CA_BUNDLE": str(make_ca(tmp_path / "other", "other CA").ca)}
        if (bundle == "other_ca")
        else {}
    )
    marker = tmp_path / "ran"
    env = over_tls(aws_env, relay, SSM=stores["SSM"], **extra)
    result = runner.run(env, "touch", str(marker))
    assert result.code == 69, result.err
    assert not marker.exists()
    failed = result.events()[-1]
    assert failed["error"] == UNTRUSTED
    assert failed["reference"] == stores["SSM"]
    assert "SSLError" not in result.err
    assert relay.handshakes_failed >= 1
