"""vals' inline form: ``ref+...+`` expressions inside literal text, on moto."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner
from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


@pytest.fixture
def parts(seed):
    """Store a password in SSM, a JSON secret in Secrets Manager, a host in S3, a ref+ secret."""
    seed.parameter("/prod/db/password", "inline-pw")
    seed.json_secret("prod/db", {"password": "inline-json-pw", "user": "inline-user"})
    seed.object("inl", "host", "db.inline.example")
    seed.parameter("/tricky", "ref+awsssm://prod/db/password+")


def test_expressions_replaced_rest_kept(aws_env, parts) -> None:
    """Each expression becomes its secret; literal text, $VAR and pointers work as in vals."""
    extra = {
        "DATABASE_URL": "postgres://app:ref+awsssm://prod/db/password+@db:5432/app",
        "DSN": "ref+awssecrets://prod/db#/user+:ref+awssecrets://prod/db#/password+@"
               "ref+s3://inl/host+/$PGDB",
        "SPACE": "token ref+awsssm://prod/db/password end",
        "TRAIL": "ref+awsssm://prod/db/password+",
    }
    env = child_env(run(aws_env, extra))
    assert env[b"DATABASE_URL"] == b"postgres://app:inline-pw@db:5432/app"
    assert env[b"DSN"] == b"inline-user:inline-json-pw@db.inline.example/$PGDB"
    assert env[b"SPACE"] == b"token inline-pw end"
    assert env[b"TRAIL"] == b"inline-pw"


def test_never_recursive(aws_env, parts) -> None:
    """A secret that itself holds ref+ is delivered as it is."""
    env = child_env(run(aws_env, {"V": "x=ref+awsssm://tricky+"}))
    assert env[b"V"] == b"x=ref+awsssm://prod/db/password+"


def test_failure_in_one_expression_fails_closed(aws_env, parts) -> None:
    """A missing part is exit 66 naming that expression; nested expressions are 78."""
    proc = run(aws_env, {"V": "a:ref+awsssm://gone/part+:b"}, "true")
    assert proc.returncode == 66
    assert "ref+awsssm://gone/part" in proc.err
    proc = run(aws_env, {"V": "a:ref+awsssm://x/ref+awsssm://y/z+"}, "true")
    assert proc.returncode == 78
    assert "nested" in proc.err


def test_check_shows_references_and_literal_length(aws_env, parts) -> None:
    """Check names the references and counts literal bytes, never the secret parts."""
    env = {**aws_env, "PATH": os.environ["PATH"],
           "URL": "postgres://app:ref+awsssm://prod/db/password+@db"}
    report = json.loads(runner.run(env, "check", "--json").stdout)
    row = next(r for r in report["references"] if r["variable"] == "URL")
    assert row["reference"] == "ref+awsssm://prod/db/password"
    assert row["size"] == len("postgres://app:inline-pw@db")
    assert f"{len('postgres://app:') + len('@db')} literal bytes" in row["status"]


def test_optional_part_missing_leaves_the_variable_unset(aws_env, parts) -> None:
    """A missing optional expression unsets the variable (as a whole optional reference does)."""
    extra = {"V": "a:ref+awsssm://gone/x?optional=true+:b",
             "W": "x:ref+awsssm://prod/db/password+:y"}
    env = child_env(run(aws_env, extra))
    assert b"V" not in env
    assert env[b"W"] == b"x:inline-pw:y"


def test_composed_value_gets_the_value_checks(aws_env, seed, tmp_path) -> None:
    """A composed value with a NUL byte is exit 65 naming the variable; nothing runs."""
    seed.secret("nul/part", b"nul\x00part-value")
    proc = run(aws_env, {"V": "a:ref+awssecrets://nul/part+:b"}, "touch", str(tmp_path / "ran"))
    assert proc.returncode == 65
    assert "V" in proc.err
    assert not (tmp_path / "ran").exists()
