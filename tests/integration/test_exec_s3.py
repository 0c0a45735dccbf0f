"""The core exec path against a real moto server: S3, SSE-KMS, env-files, the seed convention."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pytest

from tests.support import runner

BUCKET = "secrets"


@dataclass
class Result:
    """What one injector run did."""

    code: int
    env: dict[bytes, bytes] | None
    stderr: str


@pytest.fixture
def s3(moto):
    """Return a boto3 S3 client on the moto server, with the test bucket created."""
    client = moto.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def kms_key(moto) -> str:
    """Return a KMS key on the moto server."""
    kms = moto.client("kms")
    return str(kms.create_key()["KeyMetadata"]["KeyId"])


def run(
    aws_env: dict[str, str], extra: dict[str, str], *command: str, secrets: tuple[bytes, ...] = ()
) -> Result:
    """Run ``python -m injector`` with *command* (default: print env), check stderr for leaks."""
    env = {**aws_env, "PATH": os.environ["PATH"], **extra}
    argv = list(command) or ["env", "-0"]
    proc = runner.run(env, *argv, target_prints=not command)
    stderr = proc.err
    for secret in secrets:
        assert secret not in proc.stderr, "a secret value reached stderr"
    child_env = None
    if proc.returncode == 0 and not command:
        child_env = dict(
            item.split(b"=", 1)
            for item in proc.stdout.split(b"\0")
            if item  # type: ignore[misc]
        )
    return Result(proc.returncode, child_env, stderr)


def test_plain_object_byte_exact(aws_env, s3) -> None:
    """A plain object arrives byte for byte, trailing newline, '=' and quotes included."""
    value = "pa=ss\nword 'q' \"dq\" é ünï\n".encode()
    s3.put_object(Bucket=BUCKET, Key="app/pw", Body=value)
    result = run(aws_env, {"PW": f"ref+s3://{BUCKET}/app/pw"}, secrets=(value,))
    assert result.code == 0, result.stderr
    assert result.env is not None
    assert result.env[b"PW"] == value


def test_sse_kms_object(aws_env, s3, kms_key) -> None:
    """An SSE-KMS object is read the same way; S3 decrypts it."""
    s3.put_object(
        Bucket=BUCKET,
        Key="kms",
        Body=b"kms-protected-value",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=kms_key,
    )
    result = run(aws_env, {"V": f"ref+s3://{BUCKET}/kms"}, secrets=(b"kms-protected-value",))
    assert result.code == 0, result.stderr
    assert result.env is not None
    assert result.env[b"V"] == b"kms-protected-value"


def test_env_file_every_form(aws_env, s3, kms_key) -> None:
    """Seed 001's SSE-KMS env-file: every dotenv form becomes a variable, uninterpolated."""
    body = (
        b"# ops file\nDB_USERNAME='root'\nexport DB_PASSWORD='orange1'\n"
        b'DB_HOSTNAME="blah.amazon.com"\nMULTI="line one\nline two"\nRAW=$HOME\n'
        b'ESC="tab\\tq\\"x"\nEXISTING=from-file\n'
    )
    s3.put_object(
        Bucket=BUCKET, Key="dev/env", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key
    )
    extra = {"INJECTOR_ENV_FILES": f"ref+s3://{BUCKET}/dev/env", "EXISTING": "mine"}
    result = run(aws_env, extra, secrets=(b"orange1",))
    assert result.code == 0, result.stderr
    assert result.env is not None
    expected = {
        b"DB_USERNAME": b"root",
        b"DB_PASSWORD": b"orange1",
        b"DB_HOSTNAME": b"blah.amazon.com",
        b"MULTI": b"line one\nline two",
        b"RAW": b"$HOME",
        b"ESC": b'tab\tq"x',
        b"EXISTING": b"mine",
    }
    assert {k: result.env[k] for k in expected} == expected
    assert b"INJECTOR_ENV_FILES" not in result.env


def test_seed_convention_trims_and_removes_controls(aws_env, s3) -> None:
    """CREDENTIALS_X=true + BUCKETSUFFIX reads my-secrets-bucket-<suffix>/X, trimmed."""
    s3.create_bucket(Bucket="my-secrets-bucket-gtmtech")
    s3.put_object(Bucket="my-secrets-bucket-gtmtech", Key="SECRETPASSWORD", Body=b" PRIVATE99\n")
    extra = {"CREDENTIALS_SECRETPASSWORD": "true", "BUCKETSUFFIX": "gtmtech"}
    result = run(aws_env, extra, secrets=(b"PRIVATE99",))
    assert result.code == 0, result.stderr
    assert result.env is not None
    assert result.env[b"SECRETPASSWORD"] == b"PRIVATE99"
    assert not any(k.startswith((b"CREDENTIALS_", b"BUCKETSUFFIX")) for k in result.env)


def test_json_pointer(aws_env, s3) -> None:
    """A pointer selects one field; two pointers into one object cost one fetch."""
    s3.put_object(Bucket=BUCKET, Key="db.json", Body=b'{"user": "app", "port": 5432}')
    extra = {"U": f"ref+s3://{BUCKET}/db.json#/user", "P": f"ref+s3://{BUCKET}/db.json#/port"}
    result = run(aws_env, extra)
    assert result.code == 0, result.stderr
    assert result.env is not None
    assert (result.env[b"U"], result.env[b"P"]) == (b"app", b"5432")


def test_optional_missing_leaves_unset(aws_env, s3) -> None:
    """An optional missing secret leaves the variable unset and warns."""
    result = run(aws_env, {"O": f"ref+s3://{BUCKET}/nope?optional=true"})
    assert result.code == 0, result.stderr
    assert result.env is not None
    assert b"O" not in result.env
    assert "optional_secret_missing" in result.stderr


def test_missing_object_is_66_and_target_not_run(aws_env, s3, tmp_path) -> None:
    """A missing object exits 66 with one error line naming it, and the target never runs."""
    marker = tmp_path / "ran"
    result = run(aws_env, {"M": f"ref+s3://{BUCKET}/nope"}, "touch", str(marker))
    assert result.code == 66
    assert not marker.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"ref+s3://{BUCKET}/nope" in lines[0]


def test_target_missing_is_127_without_any_request(aws_env, proxy, s3) -> None:
    """A missing target exits 127 before a single request reaches the server."""
    env = {**aws_env, "AWS_ENDPOINT_URL": proxy.url}
    result = run(env, {"A": f"ref+s3://{BUCKET}/k"}, "/no/such/program")
    assert result.code == 127
    assert proxy.operations() == []


def test_fifty_references_at_once(aws_env, s3) -> None:
    """Fifty references are fetched and delivered together."""
    extra = {}
    for i in range(50):
        s3.put_object(Bucket=BUCKET, Key=f"k{i}", Body=f"value-number-{i}".encode())
        extra[f"S{i}"] = f"ref+s3://{BUCKET}/k{i}"
    values = tuple(f"value-number-{i}".encode() for i in range(50))
    result = run(aws_env, extra, secrets=values)
    assert result.code == 0, result.stderr
    assert result.env is not None
    assert all(result.env[f"S{i}".encode()] == values[i] for i in range(50))


def test_debug_logs_never_show_values(aws_env, s3) -> None:
    """Even at debug level, stderr names references but never values."""
    s3.put_object(Bucket=BUCKET, Key="d", Body=b"debug-level-secret")
    extra = {"D": f"ref+s3://{BUCKET}/d", "INJECTOR_LOG_LEVEL": "debug"}
    result = run(aws_env, extra, secrets=(b"debug-level-secret",))
    assert result.code == 0
    assert f"ref+s3://{BUCKET}/d" in result.stderr


def test_no_credentials_is_77(aws_env, s3) -> None:
    """Without any credentials the start fails with 77."""
    env = {k: v for k, v in aws_env.items() if not k.startswith("AWS_ACCESS")}
    env = {k: v for k, v in env.items() if k != "AWS_SECRET_ACCESS_KEY"}
    result = run(env, {"A": f"ref+s3://{BUCKET}/k", "AWS_EC2_METADATA_DISABLED": "true"}, "true")
    assert result.code == 77, result.stderr


def test_deadline_bounds_a_slow_server(aws_env, s3, proxy) -> None:
    """A server slower than INJECTOR_TIMEOUT gives 69 close to the deadline, not a hang."""
    s3.put_object(Bucket=BUCKET, Key="slow", Body=b"x")
    proxy.add_rule(operation="GetObject", delay=30)
    env = {**aws_env, "AWS_ENDPOINT_URL": proxy.url}
    started = time.monotonic()
    result = run(env, {"A": f"ref+s3://{BUCKET}/slow", "INJECTOR_TIMEOUT": "2"}, "true")
    assert result.code == 69, result.stderr
    assert time.monotonic() - started < 10


def test_entrypoint_gets_every_argument(aws_env, s3) -> None:
    """With INJECTOR_ENTRYPOINT, every argument (even '-x' ones) goes to that program."""
    result = runner.run(
        {**aws_env, "INJECTOR_ENTRYPOINT": "/bin/echo"}, "-n", "--timeout", "x", timeout=30
    )
    assert result.returncode == 0
    assert result.stdout == b"--timeout x"
