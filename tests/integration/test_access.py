"""Access control with moto's IAM enforcement on: every refusal is 77 naming the reference."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner

pytestmark = pytest.mark.security
BUCKET = "access-secrets"


def principal(seed, name: str, statements: list[dict] | None) -> dict[str, str]:
    """Create IAM user *name* (with an inline policy unless None); return its key variables."""
    iam = seed.client("iam")
    iam.create_user(UserName=name)
    if statements is not None:
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def refused(aws_env, keys, extra, tmp_path) -> runner.Run:
    """Run injector with *keys*; assert 77, one failed line and that the target never ran."""
    marker = tmp_path / "ran"
    env = {**aws_env, **keys, "PATH": os.environ["PATH"], **extra}
    result = runner.run(env, "touch", str(marker))
    assert result.code == 77, result.err
    assert not marker.exists()
    assert result.events()[-1]["event"] == "failed"
    return result


@pytest.fixture
def objects(seed) -> None:
    """Two objects and one parameter."""
    seed.object(BUCKET, "allowed", "allowed-object-value")
    seed.object(BUCKET, "forbidden", "forbidden-object-value", create=False)
    seed.parameter("/access/p", "access-parameter-value")


def test_allowed_one_object_not_the_other(aws_env, moto, seed, objects, tmp_path) -> None:
    """A user allowed one object reads it alone, and asking for the other too is 77 naming it."""
    allowed = f"arn:aws:s3:::{BUCKET}/allowed"
    keys = principal(
        seed, "reader", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": allowed}]
    )
    moto.reset_auth(0)
    env = {**aws_env, **keys, "PATH": os.environ["PATH"]}
    ok = runner.run({**env, "A": f"ref+s3://{BUCKET}/allowed"}, "env", "-0", target_prints=True)
    assert ok.child_env()[b"A"] == b"allowed-object-value"
    result = refused(
        aws_env,
        keys,
        {"A": f"ref+s3://{BUCKET}/allowed", "F": f"ref+s3://{BUCKET}/forbidden"},
        tmp_path,
    )
    failed = result.events()[-1]
    assert failed["reference"] == f"ref+s3://{BUCKET}/forbidden"
    assert failed["error"].startswith("access denied (AccessDenied")


def test_principal_without_policy(aws_env, moto, seed, objects, tmp_path) -> None:
    """A user with no policy at all is refused S3 and SSM alike (77, both named)."""
    keys = principal(seed, "nobody", None)
    moto.reset_auth(0)
    extra = {"A": f"ref+s3://{BUCKET}/allowed", "P": "ref+awsssm://access/p"}
    result = refused(aws_env, keys, extra, tmp_path)
    assert f"ref+s3://{BUCKET}/allowed" in result.err
    assert "ref+awsssm://access/p" in result.err


@pytest.mark.parametrize("variable", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
def test_invalid_keys(aws_env, moto, seed, objects, tmp_path, variable) -> None:  # noqa: PLR0913, PLR0917
    """An unknown access key id, or a wrong secret key, is 77 naming the reference."""
    keys = principal(seed, "keyholder", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    keys[variable] = "AKIAWRONGWRONGWRONG0" if variable == "AWS_ACCESS_KEY_ID" else "x" * 40
    moto.reset_auth(0)
    result = refused(aws_env, keys, {"P": "ref+awsssm://access/p"}, tmp_path)
    assert result.events()[-1]["reference"] == "ref+awsssm://access/p"


def test_expired_token(aws_env, proxy, objects, tmp_path) -> None:
    """An expired session token (as AWS answers it) is 77, not retried."""
    proxy.add_rule(
        operation="GetParameters",
        error="ExpiredTokenException",
        status=400,
        message="The security token included in the request is expired",
    )
    result = refused(
        aws_env, {"AWS_ENDPOINT_URL": proxy.url}, {"P": "ref+awsssm://access/p"}, tmp_path
    )
    assert "ExpiredTokenException" in result.events()[-1]["error"]
    assert proxy.count("GetParameters") == 1


def test_sse_kms_object_without_kms_decrypt(aws_env, seed, proxy, tmp_path) -> None:
    """An SSE-KMS object read without kms:Decrypt (S3's AccessDenied) is 77 naming it."""
    seed.sse_kms_object(BUCKET, "kms", "sse-kms-protected-value")
    seed.object(BUCKET, "plain", "plain-readable-value", create=False)
    proxy.add_rule(deny_sse_kms=True)
    env = {**aws_env, "AWS_ENDPOINT_URL": proxy.url, "PATH": os.environ["PATH"]}
    ok = runner.run({**env, "A": f"ref+s3://{BUCKET}/plain"}, "env", "-0", target_prints=True)
    assert ok.child_env()[b"A"] == b"plain-readable-value"
    result = refused(
        env, {}, {"A": f"ref+s3://{BUCKET}/plain", "K": f"ref+s3://{BUCKET}/kms"}, tmp_path
    )
    failed = result.events()[-1]
    assert failed["reference"] == f"ref+s3://{BUCKET}/kms"
    assert "kms:Decrypt" in failed["error"]
