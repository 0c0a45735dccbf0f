"""The built binary carries what issue 16 added: paths, roles, inline, YAML (lazy imports)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BUCKET, Moto, run

pytestmark = pytest.mark.binary


def test_path_role_inline_and_yaml_in_the_binary(binary: Path, moto: Moto, aws_env) -> None:
    """An SSM path, an assumed role, an inline expression and a YAML fragment all deliver."""
    ssm = moto.client("ssm")
    ssm.put_parameter(Name="/bin-path/db-user", Value="bin-path-user", Type="SecureString",
                      Overwrite=True)
    ssm.put_parameter(Name="/bin-inline/pw", Value="bin-inline-pw", Type="SecureString",
                      Overwrite=True)
    moto.client("s3").put_object(Bucket=BUCKET, Key="bin.yaml", Body=b"db:\n  port: 6543\n")
    role = "arn:aws:iam::123456789012:role/bin-role"
    env = {**aws_env,
           "INJECTOR_ENV_FROM": f"ref+awsssm://bin-path/?role_arn={role}",
           "URL": "pg://u:ref+awsssm://bin-inline/pw+@h",
           "PORT": f"ref+s3://{BUCKET}/bin.yaml#/db/port"}
    done = run([binary, "/usr/bin/env"], env)
    assert done.returncode == 0, done.stderr
    lines = set(done.stdout.decode().splitlines())
    assert {"DB_USER=bin-path-user", "URL=pg://u:bin-inline-pw@h", "PORT=6543"} <= lines
