"""``INJECTOR_ENV_FROM``: SSM paths, JSON objects and dotenv as many variables, on moto."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner
from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


def env_from(*refs: str, **extra: str) -> dict[str, str]:
    """Return the extra environment that lists *refs* in INJECTOR_ENV_FROM."""
    return {"INJECTOR_ENV_FROM": " ".join(refs), **extra}


@pytest.fixture
def path(seed):
    """Parameters below /prod/pay (13 direct ones: two pages), one deeper, one elsewhere."""
    for i in range(13):
        seed.parameter(f"/prod/pay/key-{i}", f"path-value-{i}")
    seed.parameter("/prod/pay/db-password", "path-db-password")
    seed.parameter("/prod/pay/db/user", "path-db-user", secure=False)
    seed.parameter("/prod/other", "other-value")
    return "/prod/pay"


def test_ssm_path_gives_one_variable_per_parameter(aws_env, path, proxy) -> None:
    """Every page is read with GetParametersByPath; names map below the path, upper-cased."""
    env = child_env(run({**aws_env, "AWS_ENDPOINT_URL": proxy.url}, env_from("ref+awsssm://prod/pay/")))
    assert env[b"DB_PASSWORD"] == b"path-db-password"
    assert all(env[f"KEY_{i}".encode()] == f"path-value-{i}".encode() for i in range(13))
    assert b"DB_USER" not in env
    assert b"OTHER" not in env
    assert proxy.count("GetParametersByPath") == 2
    assert proxy.count("DescribeParameters") == 0


def test_recursive_path_names_the_subtree(aws_env, path) -> None:
    """?recursive=true reads the whole subtree; /prod/pay/db/user is DB_USER."""
    env = child_env(run(aws_env, env_from("ref+awsssm://prod/pay/?recursive=true")))
    assert env[b"DB_USER"] == b"path-db-user"
    assert env[b"KEY_0"] == b"path-value-0"


def test_empty_path_is_66_unless_optional(aws_env, path) -> None:
    """A path with no parameter is exit 66 naming it; ?optional=true starts without them."""
    proc = run(aws_env, env_from("ref+awsssm://prod/none/"), "true")
    assert proc.returncode == 66
    assert "ref+awsssm://prod/none/" in proc.err
    env = child_env(run(aws_env, env_from("ref+awsssm://prod/none/?optional=true")))
    assert b"KEY_0" not in env


def test_parameter_name_that_is_no_variable_is_65(aws_env, seed) -> None:
    """A name still invalid after the mapping (a leading digit) is exit 65 naming it."""
    seed.parameter("/bad/2fa-seed", "bad-2fa-value")
    proc = run(aws_env, env_from("ref+awsssm://bad/"), "true")
    assert proc.returncode == 65
    assert "/bad/2fa-seed" in proc.err


def test_two_parameters_mapping_to_one_name_is_65(aws_env, seed) -> None:
    """db-user and db_user both map to DB_USER: exit 65 naming both, no last-wins."""
    seed.parameter("/dup/db-user", "dup-value-one")
    seed.parameter("/dup/db_user", "dup-value-two")
    proc = run(aws_env, env_from("ref+awsssm://dup/"), "true")
    assert proc.returncode == 65
    assert "/dup/db-user" in proc.err
    assert "/dup/db_user" in proc.err


STORES = {
    "secretsmanager": "ref+awssecrets://obj",
    "ssm": "ref+awsssm://obj?mode=singleparam",  # without the mode, #/x is vals' path form
    "s3": "ref+s3://objects/obj.json",
}
DOCUMENT = {"API_KEY": "obj-api-key", "PORT": 5432, "DEBUG": False,
            "nested": {"INNER": "obj-inner-value"}}


@pytest.fixture
def objects(seed):
    """Store the same JSON object in Secrets Manager, SSM and S3."""
    text = json.dumps(DOCUMENT)
    seed.secret("obj", text)
    seed.parameter("/obj", text)
    seed.object("objects", "obj.json", text)


@pytest.mark.parametrize("store", sorted(STORES))
def test_json_object_gives_one_variable_per_key(aws_env, objects, store) -> None:
    """Strings as they are, numbers and booleans as JSON text; a nested object is refused."""
    env = child_env(run(aws_env, env_from(STORES[store] + "#/nested")))
    assert env[b"INNER"] == b"obj-inner-value"
    proc = run(aws_env, env_from(STORES[store]), "true")
    assert proc.returncode == 65  # "nested" holds an object
    assert "'nested'" in proc.err


def test_json_scalars(aws_env, seed) -> None:
    """Numbers keep their JSON text, booleans are true/false."""
    seed.secret("scalars", '{"N": 1e3, "B": true, "S": "scalar-string"}')
    env = child_env(run(aws_env, env_from("ref+awssecrets://scalars")))
    assert (env[b"N"], env[b"B"], env[b"S"]) == (b"1e3", b"true", b"scalar-string")


@pytest.mark.parametrize(("document", "named"), [
    ('{"OK": "x-value-ok", "NOPE": null}', "'NOPE'"),
    ('{"LIST": ["a-list-value"]}', "'LIST'"),
    ('{"bad-key": "bad-key-value"}', "'bad-key'"),
])
def test_bad_keys_and_values_are_65_naming_the_key(aws_env, seed, document, named) -> None:
    """null, arrays and invalid names are exit 65 naming the key, never a value."""
    seed.secret("badobj", document)
    proc = run(aws_env, env_from("ref+awssecrets://badobj"), "true")
    assert proc.returncode == 65
    assert named in proc.err


def test_value_neither_json_object_nor_dotenv_is_65(aws_env, seed) -> None:
    """A plain value (or a JSON array) is exit 65 naming the reference."""
    seed.secret("plain", "just-a-plain-secret")
    seed.secret("array", '["array-member-value"]')
    for name in ("plain", "array"):
        proc = run(aws_env, env_from(f"ref+awssecrets://{name}"), "true")
        assert proc.returncode == 65
        assert f"ref+awssecrets://{name}" in proc.err


def test_dotenv_source(aws_env, seed) -> None:
    """Dotenv content works as in INJECTOR_ENV_FILES."""
    seed.object("dotenv", "app.env", "export FROM_DOTENV='dotenv-value'\nOTHER=dotenv-other\n")
    env = child_env(run(aws_env, env_from("ref+s3://dotenv/app.env")))
    assert (env[b"FROM_DOTENV"], env[b"OTHER"]) == (b"dotenv-value", b"dotenv-other")


def test_precedence_environment_and_explicit_win(aws_env, seed, path) -> None:
    """An existing variable and an explicit reference win over expanded ones."""
    seed.parameter("/explicit", "explicit-value")
    extra = env_from("ref+awsssm://prod/pay/", KEY_0="from-the-environment",
                     KEY_1="ref+awsssm://explicit")
    env = child_env(run(aws_env, extra))
    assert env[b"KEY_0"] == b"from-the-environment"
    assert env[b"KEY_1"] == b"explicit-value"
    assert env[b"KEY_2"] == b"path-value-2"


def test_two_sources_with_one_name_is_65_naming_both(aws_env, seed, path) -> None:
    """ENV_FROM and ENV_FILES giving one name: exit 65 naming both references and the name."""
    seed.object("files", "pay.env", "DB_PASSWORD=env-file-password\n")
    extra = env_from("ref+awsssm://prod/pay/", INJECTOR_ENV_FILES="ref+s3://files/pay.env")
    proc = run(aws_env, extra, "true")
    assert proc.returncode == 65
    assert "DB_PASSWORD" in proc.err
    assert "ref+awsssm://prod/pay/" in proc.err
    assert "ref+s3://files/pay.env" in proc.err


def test_path_outside_env_from_is_78(aws_env, path) -> None:
    """A path as one variable's value (it yields many) is exit 78."""
    proc = run(aws_env, {"X": "ref+awsssm://prod/pay/"}, "true")
    assert proc.returncode == 78
    assert "INJECTOR_ENV_FROM" in proc.err


def test_check_lists_every_variable_never_a_value(aws_env, path, objects) -> None:
    """Check shows each source and every variable it yields with sizes; --json too."""
    env = {**aws_env, "PATH": os.environ["PATH"],
           **env_from("ref+awsssm://prod/pay/", "ref+awssecrets://obj#/nested")}
    proc = runner.run(env, "check")
    assert proc.returncode == 0, proc.err
    rows = {line.split()[0]: line.split() for line in proc.stdout.decode().splitlines()[1:]}
    assert rows["DB_PASSWORD"][1:4] == ["ssm", "ref+awsssm://prod/pay/",
                                        str(len("path-db-password"))]
    assert rows["INNER"][2] == "ref+awssecrets://obj#/nested"
    report = json.loads(runner.run(env, "check", "--json").stdout)
    names = {row["variable"] for row in report["references"]}
    assert {"(env-from)", "DB_PASSWORD", "KEY_12", "INNER"} <= names
