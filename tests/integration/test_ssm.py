"""SSM Parameter Store through ``python -m injector`` against the moto server."""

from __future__ import annotations

import pytest

from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


def test_securestring_path_and_arn(aws_env, moto) -> None:
    """ref+awsssm:// and the ECS ARN form both deliver a decrypted SecureString."""
    ssm = moto.client("ssm")
    ssm.put_parameter(Name="/prod/db/password", Value="s3cr=t\nvalue é", Type="SecureString")
    ssm.put_parameter(Name="plain", Value="top-level-name", Type="String")
    extra = {"A": "ref+awsssm://prod/db/password",
             "B": "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password",
             "C": "arn:aws:ssm:us-east-1:123456789012:parameter/plain"}
    env = child_env(run(aws_env, extra, secrets=(b"s3cr=t", b"top-level-name")))
    assert env[b"A"] == env[b"B"] == "s3cr=t\nvalue é".encode()
    assert env[b"C"] == b"top-level-name"


def test_version_and_label_pins(aws_env, moto) -> None:
    """?version=N and ?label=L select older versions; the plain name is the latest."""
    ssm = moto.client("ssm")
    ssm.put_parameter(Name="/app/token", Value="token-one", Type="SecureString")
    ssm.put_parameter(Name="/app/token", Value="token-two", Type="SecureString", Overwrite=True)
    ssm.label_parameter_version(Name="/app/token", ParameterVersion=1, Labels=["first"])
    extra = {"V1": "ref+awsssm://app/token?version=1", "L": "ref+awsssm://app/token?label=first",
             "NOW": "ref+awsssm://app/token"}
    env = child_env(run(aws_env, extra, secrets=(b"token-one", b"token-two")))
    assert (env[b"V1"], env[b"L"], env[b"NOW"]) == (b"token-one", b"token-one", b"token-two")


def test_json_pointer(aws_env, moto) -> None:
    """With mode=singleparam (as in vals) a JSON pointer selects inside one parameter."""
    moto.client("ssm").put_parameter(Name="/cfg", Value='{"db": {"port": 5432, "u": "app"}}',
                                      Type="SecureString")
    extra = {"P": "ref+awsssm://cfg?mode=singleparam#/db/port",
             "U": "ref+awsssm://cfg?mode=singleparam#/db/u"}
    env = child_env(run(aws_env, extra))
    assert (env[b"P"], env[b"U"]) == (b"5432", b"app")


def test_missing_parameter_is_66_naming_it(aws_env, moto) -> None:
    """A missing parameter (or version) exits 66 naming exactly that reference."""
    moto.client("ssm").put_parameter(Name="/here", Value="here-value", Type="SecureString")
    extra = {"OK": "ref+awsssm://here", "NO": "ref+awsssm://not/here",
             "OLD": "ref+awsssm://here?version=7"}
    proc = run(aws_env, extra, "true", secrets=(b"here-value",))
    assert proc.returncode == 66
    stderr = proc.stderr.decode()
    assert "ref+awsssm://not/here" in stderr
    assert "ref+awsssm://here?version=7" in stderr
    assert "secret_failed" in stderr


def test_optional_missing_parameter(aws_env, moto) -> None:
    """An optional missing parameter leaves the variable unset."""
    env = child_env(run(aws_env, {"O": "ref+awsssm://nothing?optional=true"}))
    assert b"O" not in env


def test_mixed_regions(aws_env, moto) -> None:
    """?region= and the ARN's region each reach their own region's store."""
    for region, value in (("eu-west-1", "in-eu"), ("us-west-2", "in-us")):
        moto.client("ssm", region_name=region).put_parameter(
            Name="/r", Value=value, Type="SecureString")
    extra = {"EU": "ref+awsssm://r?region=eu-west-1",
             "US": "arn:aws:ssm:us-west-2:123456789012:parameter/r"}
    env = child_env(run(aws_env, extra))
    assert (env[b"EU"], env[b"US"]) == (b"in-eu", b"in-us")


def test_twenty_five_parameters_three_calls(aws_env, moto, proxy) -> None:
    """25 distinct parameters (plus repeats of them) cost exactly 3 GetParameters calls."""
    ssm = moto.client("ssm")
    extra = {}
    for i in range(25):
        ssm.put_parameter(Name=f"/many/p{i}", Value=f"many-value-{i}", Type="SecureString")
        extra[f"P{i}"] = f"ref+awsssm://many/p{i}"
        extra[f"DUP{i}"] = f"ref+awsssm://many/p{i}"
    env = child_env(run({**aws_env, "AWS_ENDPOINT_URL": proxy.url}, extra))
    assert all(env[f"DUP{i}".encode()] == f"many-value-{i}".encode() for i in range(25))
    assert proxy.count("GetParameters") == 3


def test_batches_run_concurrently(aws_env, moto, proxy) -> None:
    """Three slow GetParameters calls are in flight at the same time, not one after another."""
    ssm = moto.client("ssm")
    extra = {}
    for i in range(25):
        ssm.put_parameter(Name=f"/slow/p{i}", Value=f"v{i}", Type="SecureString")
        extra[f"P{i}"] = f"ref+awsssm://slow/p{i}"
    proxy.add_rule(operation="GetParameters", delay=1.0)
    proc = run({**aws_env, "AWS_ENDPOINT_URL": proxy.url}, extra, "true")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proxy.count("GetParameters") == 3
    assert proxy.max_in_flight == 3
