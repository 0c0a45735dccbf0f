"""``?role_arn=`` and ``?profile=`` per reference, proven at the recording proxy (moto's STS)."""

from __future__ import annotations

import pytest

from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/cross-account"


def signers(proxy, operation: str) -> set[str]:
    """Return the access keys that signed the recorded calls of *operation*."""
    return {c.access_key for c in proxy.calls() if c.operation == operation}


def test_role_reference_is_signed_with_the_assumed_role(aws_env, seed, proxy) -> None:
    """AssumeRole once (caller's key, session 'injector'); that reference's call uses its key."""
    seed.parameter("/role/one", "role-value-one")
    seed.parameter("/plain/one", "plain-value-one")
    seed.secret("role/secret", "role-secret-value")
    extra = {
        "AWS_ENDPOINT_URL": proxy.url,
        "A": f"ref+awsssm://role/one?role_arn={ROLE}",
        "S": f"ref+awssecrets://role/secret?role_arn={ROLE}",
        "B": "ref+awsssm://plain/one",
    }
    env = child_env(run(aws_env, extra))
    assert (env[b"A"], env[b"S"], env[b"B"]) == (
        b"role-value-one",
        b"role-secret-value",
        b"plain-value-one",
    )
    assert proxy.count("AssumeRole") == 1  # one session per distinct role
    assert signers(proxy, "AssumeRole") == {"testing"}
    keys = {c.access_key for c in proxy.calls() if c.service in {"ssm", "secretsmanager"}}
    assumed = keys - {"testing"}
    assert len(assumed) == 1
    assert "testing" in keys
    role_calls = [c for c in proxy.calls() if c.service == "secretsmanager"]
    assert {c.access_key for c in role_calls} == assumed


def test_role_applies_to_env_from_and_inline(aws_env, seed, proxy) -> None:
    """A path in INJECTOR_ENV_FROM and an inline expression use their roles too."""
    seed.parameter("/rp/key", "rp-path-value")
    seed.parameter("/ri/pw", "ri-inline-value")
    extra = {
        "AWS_ENDPOINT_URL": proxy.url,
        "INJECTOR_ENV_FROM": f"ref+awsssm://rp/?role_arn={ROLE}",
        "URL": f"x://u:ref+awsssm://ri/pw?role_arn={ROLE}+@h",
    }
    env = child_env(run(aws_env, extra))
    assert (env[b"KEY"], env[b"URL"]) == (b"rp-path-value", b"x://u:ri-inline-value@h")
    assert "testing" not in signers(proxy, "GetParametersByPath") | signers(proxy, "GetParameters")


def test_role_that_cannot_be_assumed_is_77_naming_it(aws_env, seed, proxy) -> None:
    """AssumeRole denied: exit 77 naming the reference and the role; nothing exec'd."""
    seed.parameter("/role/denied", "denied-value")
    proxy.add_rule(operation="AssumeRole", error="AccessDenied")
    extra = {"AWS_ENDPOINT_URL": proxy.url, "A": f"ref+awsssm://role/denied?role_arn={ROLE}"}
    proc = run(aws_env, extra, "true")
    assert proc.returncode == 77
    assert ROLE in proc.err
    assert "ref+awsssm://role/denied" in proc.err
    assert proxy.count("GetParameters") == 0


def test_bad_role_arn_is_78(aws_env) -> None:
    """A role_arn that is not an IAM role ARN is a configuration error."""
    proc = run(aws_env, {"A": "ref+awsssm://x?role_arn=not-an-arn"}, "true")
    assert proc.returncode == 78
    assert "role_arn" in proc.err


def test_profile_signs_with_that_profiles_keys(aws_env, seed, proxy, tmp_path) -> None:
    """?profile=NAME uses that profile of the credentials file; others the default chain."""
    seed.parameter("/prof/one", "profile-value")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[other]\naws_access_key_id = otherkey\naws_secret_access_key = othersecret\n"
    )
    extra = {
        "AWS_ENDPOINT_URL": proxy.url,
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "P": "ref+awsssm://prof/one?profile=other",
        "D": "ref+awsssm://prof/one",
    }
    env = child_env(run(aws_env, extra))
    assert env[b"P"] == env[b"D"] == b"profile-value"
    assert signers(proxy, "GetParameters") == {"otherkey", "testing"}


def test_profile_region_applies_when_the_environment_names_none(aws_env, seed, proxy, tmp_path):
    """A ?profile= reference uses the profile's region when AWS_REGION is unset (as the CLI)."""
    import boto3

    west = boto3.client(
        "ssm",
        region_name="us-west-2",
        endpoint_url=aws_env["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake key
    )
    west.put_parameter(Name="/prof/region", Value="west-value", Type="SecureString")
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = us-west-2\n")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[other]\naws_access_key_id = otherkey\naws_secret_access_key = othersecret\n"
    )
    env = {k: v for k, v in aws_env.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    extra = {
        "AWS_ENDPOINT_URL": proxy.url,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
        "P": "ref+awsssm://prof/region?profile=other",
    }
    assert child_env(run(env, extra))[b"P"] == b"west-value"
    assert {c.region for c in proxy.calls() if c.operation == "GetParameters"} == {"us-west-2"}


def test_unknown_profile_is_78(aws_env, seed) -> None:
    """An unknown profile is exit 78 naming it (no fallback to other credentials)."""
    seed.parameter("/prof/two", "profile-two-value")
    proc = run(aws_env, {"P": "ref+awsssm://prof/two?profile=nosuch"}, "true")
    assert proc.returncode == 78
    assert "nosuch" in proc.err
    assert "ref+awsssm://prof/two" in proc.err


def test_role_applies_to_env_files(aws_env, seed, proxy) -> None:
    """An env-file reference with role_arn is read with the assumed role's key."""
    seed.object("role-files", "app.env", "FROM_FILE=role-env-file-value\n")
    extra = {
        "AWS_ENDPOINT_URL": proxy.url,
        "INJECTOR_ENV_FILES": f"ref+s3://role-files/app.env?role_arn={ROLE}",
    }
    env = child_env(run(aws_env, extra))
    assert env[b"FROM_FILE"] == b"role-env-file-value"
    assert "testing" not in signers(proxy, "GetObject")
    assert signers(proxy, "AssumeRole") == {"testing"}
