"""The cap on each secret (INJECTOR_MAX_SECRET_BYTES, 16 MiB by default) is checked while reading.

An S3 object whose Content-Length is over the cap is refused before its body is read; a body
without a Content-Length is read in chunks and refused at the cap. Either way: 65 naming the
reference, at once (asking again cannot help), never 69 after retries.
"""

from __future__ import annotations

import os

import pytest

from tests.support import runner

pytestmark = pytest.mark.security

CAP = 16 * 1024 * 1024
REFERENCE = "ref+s3://caps/big"


def through(aws_env, proxy, **extra: str) -> dict[str, str]:
    """Return the environment for injector talking to moto through the proxy."""
    return {
        **aws_env,
        "AWS_ENDPOINT_URL": proxy.url,
        "PATH": os.environ["PATH"],
        "INJECTOR_TIMEOUT": "30",
        **extra,
    }


def assert_too_large(result: runner.Run) -> None:
    """Assert 65 naming the reference and the cap, without a traceback."""
    assert result.code == 65, result.err
    failed = result.events()[-1]
    assert failed["reference"] == REFERENCE
    assert "INJECTOR_MAX_SECRET_BYTES" in failed["error"]
    assert "Traceback" not in result.err


@pytest.fixture
def big(seed) -> None:
    """Store an object one byte over the default cap."""
    seed.bucket("caps")
    seed.client("s3").put_object(Bucket="caps", Key="big", Body=b"\0" * (CAP + 1))


def test_object_over_the_cap_is_65_naming_it(aws_env, proxy, big) -> None:
    """An object of 16 MiB + 1 byte is refused with 65 after one GetObject."""
    result = runner.run(through(aws_env, proxy, BIG_FILE=REFERENCE), "true")
    assert_too_large(result)
    assert proxy.count("GetObject") == 1


def test_content_length_over_the_cap_is_refused_before_reading(aws_env, proxy, big) -> None:
    """The header alone decides: a body that would break off after 10 bytes is never read."""
    proxy.add_rule(operation="GetObject", truncate=10)
    result = runner.run(through(aws_env, proxy, BIG_FILE=REFERENCE), "true")
    assert_too_large(result)
    assert proxy.count("GetObject") == 1  # no retry: the body was not read, so it did not break


def test_body_without_length_is_refused_at_the_cap(aws_env, proxy, seed) -> None:
    """A body with no Content-Length, longer than the cap, is cut off at the cap while reading."""
    seed.object("caps", "big", b"small")
    proxy.add_rule(
        operation="GetObject",
        reply=b"\0" * (CAP + 4096),
        close_delimited=True,
        reply_type="binary/octet-stream",
    )
    result = runner.run(through(aws_env, proxy, BIG_FILE=REFERENCE), "true")
    assert_too_large(result)
    assert proxy.count("GetObject") == 1


def test_object_at_the_cap_is_delivered(aws_env, proxy, seed) -> None:
    """Exactly 16 MiB still arrives, into a file (the environment could not hold it)."""
    seed.bucket("caps")
    seed.client("s3").put_object(Bucket="caps", Key="big", Body=b"\1" * CAP)
    script = 'wc -c < "$BIG_FILE"; rm -rf "$(dirname "$BIG_FILE")"'
    result = runner.run(
        through(aws_env, proxy, BIG_FILE=REFERENCE), "sh", "-c", script, target_prints=True
    )
    assert result.code == 0, result.err
    assert int(result.stdout) == CAP
