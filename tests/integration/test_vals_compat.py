"""vals' AWS strings mean in injector what they mean in vals (README "vals compatibility")."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner
from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


@pytest.fixture
def foo(seed):
    """Store vals' README example (/foo/bar/a, /foo/bar/b) and a JSON parameter /foo/baz."""
    seed.parameter("/foo/bar/a", "vals-value-a")
    seed.parameter("/foo/bar/b", "vals-value-b")
    seed.parameter("/foo/baz", '{"BAR": "vals-single-value"}')


def test_ssm_prefix_fragment_reads_below_the_prefix(aws_env, foo, proxy) -> None:
    """#/PATH after a prefix is the parameter below it, read with GetParametersByPath."""
    extra = {
        "AWS_ENDPOINT_URL": proxy.url,
        "A": "ref+awsssm://foo/bar#/a",
        "A2": "ref+awsssm://foo?recursive=true#/bar/a",
        "B": "ref+awsssm://foo/bar/b",
        "S": "ref+awsssm://foo/baz?mode=singleparam#/BAR",
    }
    env = child_env(run(aws_env, extra))
    assert env[b"A"] == env[b"A2"] == b"vals-value-a"
    assert (env[b"B"], env[b"S"]) == (b"vals-value-b", b"vals-single-value")
    assert proxy.count("GetParametersByPath") == 2
    assert proxy.count("GetParameters") == 1


def test_ssm_fragment_to_a_subtree_or_nothing_is_65(aws_env, foo) -> None:
    """A fragment that selects a subtree, or no parameter, fails closed (vals gives a map/nil)."""
    for text in ("ref+awsssm://foo?recursive=true#/bar", "ref+awsssm://foo/bar#/nope"):
        proc = run(aws_env, {"X": text}, "true")
        assert proc.returncode == 65, text
        assert text in proc.err


def test_secretref_and_s3_version(aws_env, seed) -> None:
    """secretref+ is read like ref+; S3's version= is version_id."""
    seed.parameter("/sr/x", "secretref-value")
    seed.object("ver", "k", "version-value")
    version = seed.client("s3").head_object(Bucket="ver", Key="k").get("VersionId", "null")
    extra = {"X": "secretref+awsssm://sr/x", "V": f"ref+s3://ver/k?version={version}"}
    env = child_env(run(aws_env, extra))
    assert (env[b"X"], env[b"V"]) == (b"secretref-value", b"version-value")


def test_check_warns_on_forms_vals_reads_differently(aws_env, seed) -> None:
    """A whole KMS value with '+' (vals would cut it there) gets a warning; --json too."""
    seed.parameter("/w/ok", "warn-ok-value")
    ciphertext = seed.kms_encrypt("warn-kms-plaintext")
    env = {**aws_env, "PATH": os.environ["PATH"], "OK": "ref+awsssm://w/ok",
           "K": "ref+awskms://" + ciphertext.replace("/", "+")[:8] + "+AAAA"}
    proc = runner.run(env, "check")
    warnings = [line for line in proc.stdout.decode().splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "vals ends an expression at '+'" in warnings[0]
    report = json.loads(runner.run(env, "check", "--json").stdout)
    assert [w["reference"] for w in report["warnings"]] == [env["K"]]


def test_yaml_documents_under_a_fragment(aws_env, seed) -> None:
    """A fragment into a YAML object (S3, Secrets Manager) selects as in vals."""
    seed.object("yaml", "app.yaml", "db:\n  password: yaml-db-password\n  port: 5432\n")
    seed.secret("yaml/secret", "token: yaml-secret-token\n")
    extra = {"P": "ref+s3://yaml/app.yaml#/db/password", "N": "ref+s3://yaml/app.yaml#/db/port",
             "T": "ref+awssecrets://yaml/secret#/token"}
    env = child_env(run(aws_env, extra))
    assert (env[b"P"], env[b"N"], env[b"T"]) == (b"yaml-db-password", b"5432",
                                                 b"yaml-secret-token")
