"""``injector put`` then exec, for every store it writes to, against the moto server."""

from __future__ import annotations

import os

import pytest

from tests.support import runner
from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


def put(aws_env, *args, value=b"", tmp_file=None):
    """Run ``injector put ARGS`` with *value* on stdin."""
    env = {**aws_env, "PATH": os.environ["PATH"]}
    proc = runner.run(env, "put", *args, stdin=value)
    if value:
        assert value.strip() not in proc.stderr, "a value reached stderr"
    assert proc.stdout == b""
    return proc


@pytest.fixture
def key(moto) -> str:
    """Create a KMS key and return its id."""
    return str(moto.client("kms").create_key()["KeyMetadata"]["KeyId"])


def test_s3_put_with_sse_kms_round_trip(aws_env, moto, key) -> None:
    """Put ref+s3:// stores with SSE-KMS under the key, and exec reads it back byte-exact."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="ops")
    value = b"ops-secret\x00with nul\n"
    proc = put(aws_env, "ref+s3://ops/app/env", "--kms-key-id", key, value=value)
    assert proc.returncode == 0, proc.stderr.decode()
    head = s3.head_object(Bucket="ops", Key="app/env")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key in head["SSEKMSKeyId"]
    assert s3.get_object(Bucket="ops", Key="app/env")["Body"].read() == value


def test_s3_put_without_key_refused_and_nothing_uploaded(aws_env, moto) -> None:
    """Without --kms-key-id (and without --no-kms) put exits 64 and uploads nothing."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="ops")
    proc = put(aws_env, "ref+s3://ops/k", value=b"never-uploaded")
    assert proc.returncode == 64
    assert s3.list_objects_v2(Bucket="ops").get("KeyCount", 0) == 0
    proc = put(aws_env, "ref+s3://ops/k", "--no-kms", value=b"plain-upload")
    assert proc.returncode == 0, proc.stderr.decode()
    env = child_env(run(aws_env, {"K": "ref+s3://ops/k"}))
    assert env[b"K"] == b"plain-upload"


def test_ssm_put_securestring_round_trip(aws_env, moto) -> None:
    """Put ref+awsssm:// writes a SecureString (overwriting) that exec reads back."""
    assert put(aws_env, "ref+awsssm://svc/pw", value=b"first-value").returncode == 0
    assert put(aws_env, "ref+awsssm://svc/pw", value=b"second-value").returncode == 0
    parameter = moto.client("ssm").get_parameter(Name="/svc/pw")["Parameter"]
    assert (parameter["Type"], parameter["Version"]) == ("SecureString", 2)
    assert child_env(run(aws_env, {"P": "ref+awsssm://svc/pw"}))[b"P"] == b"second-value"


def test_put_and_exec_through_the_stock_http_session(aws_env, moto) -> None:
    """INJECTOR_STOCK_HTTP=1 is honoured by put as by exec: the same round trip."""
    env = {**aws_env, "INJECTOR_STOCK_HTTP": "1"}
    assert put(env, "ref+awsssm://svc/stock", value=b"stock-value").returncode == 0
    assert moto.client("ssm").get_parameter(Name="/svc/stock")["Parameter"]["Version"] == 1
    assert child_env(run(env, {"P": "ref+awsssm://svc/stock"}))[b"P"] == b"stock-value"


def test_secretsmanager_put_create_then_update(aws_env, moto, tmp_path) -> None:
    """Put ref+awssecrets:// creates, then updates; text and binary (--from-file) round-trip."""
    assert put(aws_env, "ref+awssecrets://svc/token", value=b"token-text").returncode == 0
    source = tmp_path / "blob"
    source.write_bytes(b"\xff\xfebinary")
    proc = put(aws_env, "ref+awssecrets://svc/token", "--from-file", str(source))
    assert proc.returncode == 0, proc.stderr.decode()
    env = child_env(run(aws_env, {"T": "ref+awssecrets://svc/token"}))
    assert env[b"T"] == b"\xff\xfebinary"


@pytest.mark.parametrize(
    "args",
    [
        ["ref+awskms://AAAA"],
        ["ref+awsssm://a#/x"],
        [],
        ["ref+awsssm://a", "extra"],
        ["ref+awsssm://a", "--kms-key-id", "k", "--no-kms"],
    ],
)
def test_bad_put_invocations_are_usage_errors(aws_env, args) -> None:
    """KMS references, pointers, missing or extra words and conflicting flags exit 64."""
    assert put(aws_env, *args, value=b"never-shown-value").returncode == 64


def test_empty_value_refused(aws_env) -> None:
    """An empty stdin is a usage error, not an empty secret."""
    assert put(aws_env, "ref+awsssm://empty").returncode == 64
