"""Secrets Manager through ``python -m injector`` against the moto server."""

from __future__ import annotations

import pytest

from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


def test_string_binary_and_arn_forms(aws_env, moto) -> None:
    """SecretString (UTF-8), SecretBinary (bytes) and the ARN form all arrive intact."""
    sm = moto.client("secretsmanager")
    arn = sm.create_secret(Name="app/api", SecretString="api-key=é\n")["ARN"]
    sm.create_secret(Name="app/blob", SecretBinary=b"\x01binary\xfe")
    partial = arn.rsplit("-", 1)[0]
    extra = {
        "S": "ref+awssecrets://app/api",
        "FULL": arn,
        "PARTIAL": partial,
        "REFARN": f"ref+awssecrets://{arn}",
        "B": "ref+awssecrets://app/blob",
    }
    env = child_env(run(aws_env, extra, secrets=(b"api-key",)))
    assert env[b"S"] == env[b"FULL"] == env[b"PARTIAL"] == env[b"REFARN"] == "api-key=é\n".encode()
    assert env[b"B"] == b"\x01binary\xfe"


def test_json_key_in_arn_and_pointer(aws_env, moto) -> None:
    """The ECS json-key field and a '#' pointer both select one field."""
    sm = moto.client("secretsmanager")
    arn = sm.create_secret(Name="db", SecretString='{"user": "app", "password": "pw-9"}')["ARN"]
    extra = {"U": f"{arn}:user::", "P": "ref+awssecrets://db#/password"}
    env = child_env(run(aws_env, extra, secrets=(b"pw-9",)))
    assert (env[b"U"], env[b"P"]) == (b"app", b"pw-9")


def test_version_stage_and_id(aws_env, moto) -> None:
    """version_stage=AWSPREVIOUS and version_id pins read older versions."""
    sm = moto.client("secretsmanager")
    first = sm.create_secret(Name="rot", SecretString="old-value")["VersionId"]
    sm.put_secret_value(SecretId="rot", SecretString="new-value")
    extra = {
        "PREV": "ref+awssecrets://rot?version_stage=AWSPREVIOUS",
        "ID": f"ref+awssecrets://rot?version_id={first}",
        "NOW": "ref+awssecrets://rot",
        "ECS": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rot::AWSPREVIOUS:",
    }
    env = child_env(run(aws_env, extra))
    assert (env[b"PREV"], env[b"ID"], env[b"NOW"]) == (b"old-value", b"old-value", b"new-value")
    assert env[b"ECS"] == b"old-value"


def test_missing_secret_is_66(aws_env, moto) -> None:
    """A secret missing from a batch is 66 naming it; the others in the batch were fine."""
    moto.client("secretsmanager").create_secret(Name="there", SecretString="there-value")
    extra = {"A": "ref+awssecrets://there", "B": "ref+awssecrets://not-there"}
    proc = run(aws_env, extra, "true", secrets=(b"there-value",))
    assert proc.returncode == 66
    assert "ref+awssecrets://not-there" in proc.stderr.decode()


def test_batched_twenty_per_call(aws_env, moto, proxy) -> None:
    """45 secrets (some used twice) cost 3 BatchGetSecretValue calls and no single reads."""
    sm = moto.client("secretsmanager")
    extra = {}
    for i in range(45):
        sm.create_secret(Name=f"s{i}", SecretString=f"secret-value-{i}")
        extra[f"S{i}"] = f"ref+awssecrets://s{i}"
    extra["AGAIN"] = "ref+awssecrets://s0"
    env = child_env(run({**aws_env, "AWS_ENDPOINT_URL": proxy.url}, extra))
    assert env[b"AGAIN"] == env[b"S0"] == b"secret-value-0"
    assert proxy.count("BatchGetSecretValue") == 3
    assert proxy.count("GetSecretValue") == 0


def test_mixed_regions(aws_env, moto) -> None:
    """A secret's ARN region and ?region= reach the right regional store."""
    arn = moto.client("secretsmanager", region_name="eu-central-1").create_secret(
        Name="r", SecretString="in-frankfurt"
    )["ARN"]
    moto.client("secretsmanager", region_name="ap-south-1").create_secret(
        Name="r", SecretString="in-mumbai"
    )
    extra = {"EU": arn, "AP": "ref+awssecrets://r?region=ap-south-1"}
    env = child_env(run(aws_env, extra))
    assert (env[b"EU"], env[b"AP"]) == (b"in-frankfurt", b"in-mumbai")


def test_denied_batch_falls_back_to_single_reads(aws_env, moto, proxy) -> None:
    """When BatchGetSecretValue is denied, every secret is still read with GetSecretValue."""
    sm = moto.client("secretsmanager")
    extra = {}
    for i in range(3):
        sm.create_secret(Name=f"f{i}", SecretString=f"fallback-{i}")
        extra[f"F{i}"] = f"ref+awssecrets://f{i}"
    proxy.add_rule(operation="BatchGetSecretValue", error="AccessDeniedException")
    env = child_env(run({**aws_env, "AWS_ENDPOINT_URL": proxy.url}, extra))
    assert [env[f"F{i}".encode()] for i in range(3)] == [
        b"fallback-0",
        b"fallback-1",
        b"fallback-2",
    ]
    assert proxy.count("BatchGetSecretValue") == 1
    assert proxy.count("GetSecretValue") == 3
