"""``injector check``: a dry run that reports every reference and never prints a value."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner

pytestmark = pytest.mark.integration


VALUES = (b"check-ssm-value", b"check-secret-value", b"check-s3-value")


def check(aws_env, extra, *args):
    """Run ``injector check ARGS``; assert no value appears on stdout or stderr."""
    env = {**aws_env, "PATH": os.environ["PATH"], **extra}
    proc = runner.run(env, "check", *args)
    for value in VALUES:
        assert value not in proc.stdout + proc.stderr, "check showed a value"
    return proc


@pytest.fixture
def stores(moto):
    """One secret in each of SSM, Secrets Manager and S3."""
    moto.client("ssm").put_parameter(Name="/c/p", Value=VALUES[0].decode(), Type="SecureString")
    moto.client("secretsmanager").create_secret(Name="c/s", SecretString=VALUES[1].decode())
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="check-bucket")
    s3.put_object(Bucket="check-bucket", Key="o", Body=VALUES[2])


GOOD = {
    "P": "ref+awsssm://c/p",
    "S": "ref+awssecrets://c/s",
    "O": "ref+s3://check-bucket/o",
    "MAYBE": "ref+awsssm://c/none?optional=true",
}


def test_good_plan_table(aws_env, stores) -> None:
    """A good plan prints one row per variable with store, size and ok, and exits 0."""
    proc = check(aws_env, GOOD)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert lines[0].split() == ["VARIABLE", "STORE", "REFERENCE", "SIZE", "STATUS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["P"][1:] == ["ssm", "ref+awsssm://c/p", str(len(VALUES[0])), "ok"]
    assert rows["S"][-1] == rows["O"][-1] == "ok"
    assert "optional" in " ".join(rows["MAYBE"])


def test_bad_plan_json_and_exit_code(aws_env, stores) -> None:
    """A missing secret gives exit 66, like exec, and the JSON report says which one."""
    proc = check(aws_env, {**GOOD, "GONE": "ref+awssecrets://c/gone"}, "--json")
    assert proc.returncode == 66
    report = json.loads(proc.stdout)
    assert (report["ok"], report["exit_code"]) == (False, 66)
    rows = {row["variable"]: row for row in report["references"]}
    assert rows["GONE"]["status"] == "not_found"
    assert rows["P"]["status"] == "ok"
    assert rows["P"]["size"] == len(VALUES[0])


def test_env_file_option(aws_env, stores, tmp_path) -> None:
    """--env-file reads NAME=reference lines instead of the environment."""
    plan_file = tmp_path / "plan.env"
    plan_file.write_text("P=ref+awsssm://c/p\nX=ref+awsssm://c/missing\n")
    proc = check(aws_env, {}, "--json", "--env-file", str(plan_file))
    assert proc.returncode == 66
    assert [r["variable"] for r in json.loads(proc.stdout)["references"]] == ["P", "X"]


def test_config_error_and_nul_value(aws_env, moto) -> None:
    """Exit codes match exec: a NUL byte for an env variable is 65, a *_FILE is fine."""
    moto.client("secretsmanager").create_secret(Name="nul", SecretBinary=b"a\x00b")
    proc = check(
        aws_env, {"N_FILE": "ref+awssecrets://nul", "INJECTOR_SECRETS_DIR": "/dev/shm/x"}, "--json"
    )
    assert proc.returncode == 0, proc.stdout.decode()
    proc = check(aws_env, {"N": "ref+awssecrets://nul"}, "--json")
    assert proc.returncode == 65
    proc = check(aws_env, {"Q": "ref+nope://x"})
    assert proc.returncode == 78


def test_disk_secrets_dir_reported(aws_env, stores, tmp_path) -> None:
    """A disk-backed secrets directory for *_FILE variables is reported as exec would (78)."""
    proc = check(aws_env, {"P_FILE": "ref+awsssm://c/p", "INJECTOR_SECRETS_DIR": str(tmp_path)})
    assert proc.returncode == 78
    assert "not tmpfs" in proc.stdout.decode()
