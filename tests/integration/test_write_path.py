"""Store writes (``put``, ``encrypt``) take the reads' call/retry/deadline path (issue 12, part 1).

A write whose answer arrives cut short is asked again (with the same idempotency token for
Secrets Manager) instead of failing; an answer without what the API promises is 69, never a
traceback; the error names the reference, never the value.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner

pytestmark = pytest.mark.faults


def through(aws_env, proxy, **extra: str) -> dict[str, str]:
    """Return the environment for injector talking to moto through the proxy."""
    return {
        **aws_env,
        "AWS_ENDPOINT_URL": proxy.url,
        "PATH": os.environ["PATH"],
        "INJECTOR_TIMEOUT": "20",
        **extra,
    }


@pytest.mark.parametrize(
    ("reference", "operation"),
    [
        ("ref+awsssm://write/param", "PutParameter"),
        ("ref+awssecrets://write/secret", "CreateSecret"),
    ],
)
def test_put_answer_cut_short_is_asked_again(aws_env, proxy, moto, reference, operation) -> None:
    """A put whose answer breaks off once is retried and the value is stored."""
    rule = proxy.add_rule(operation=operation, times=1, truncate=5)
    result = runner.run(through(aws_env, proxy), "put", reference, stdin=b"write-path-value")
    assert result.code == 0, result.err
    assert rule.hits == 1
    assert proxy.count(operation) == 2
    read = runner.run(through(aws_env, proxy, V=reference), "env", "-0", target_prints=True)
    assert read.child_env()[b"V"] == b"write-path-value"


def test_secret_created_once_although_asked_twice(aws_env, proxy, moto) -> None:
    """Both CreateSecret attempts carry one ClientRequestToken: one version, not two."""
    proxy.add_rule(operation="CreateSecret", times=1, truncate=5)
    result = runner.run(
        through(aws_env, proxy), "put", "ref+awssecrets://write/once", stdin=b"write-once-value"
    )
    assert result.code == 0, result.err
    tokens = {
        json.loads(c.body)["ClientRequestToken"]
        for c in proxy.calls()
        if c.operation == "CreateSecret"
    }
    assert len(tokens) == 1
    versions = moto.client("secretsmanager").list_secret_version_ids(SecretId="write/once")
    assert len(versions["Versions"]) == 1


def test_encrypt_answer_without_ciphertext_is_69(aws_env, proxy, moto) -> None:
    """An Encrypt answer without CiphertextBlob is a bad answer (69), not a KeyError (70)."""
    key = moto.client("kms").create_key()["KeyMetadata"]["KeyId"]
    proxy.add_rule(operation="Encrypt", reply=json.dumps({"KeyId": key}).encode())
    result = runner.run(
        through(aws_env, proxy), "encrypt", "--kms-key-id", key, stdin=b"encrypt-path-value"
    )
    assert result.code == 69, result.err
    assert result.stdout == b""
    failed = result.events()[-1]
    assert failed["reference"] == f"kms key {key}"
    assert "not what the API promises" in failed["error"]
    assert "Traceback" not in result.err


def test_put_failure_names_the_reference(aws_env, proxy) -> None:
    """A put that keeps failing names the reference (69), without the value."""
    proxy.add_rule(operation="PutParameter", status=503)
    result = runner.run(
        through(aws_env, proxy, INJECTOR_TIMEOUT="6"),
        "put",
        "ref+awsssm://write/down",
        stdin=b"write-down-value",
    )
    assert result.code == 69, result.err
    assert result.events()[-1]["reference"] == "ref+awsssm://write/down"
