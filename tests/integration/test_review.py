"""Regression tests for the outside security review (issue 12): one pipeline for exec and check.

Each test is named after what it proves; each failed on the code before the review's fixes.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.support import runner
from tests.support.aws_seed import RECORDED

pytestmark = pytest.mark.security
BUCKET = "review"
NOT_DOTENV = "Pa55#word-tail"
HOLD = 3.0


def env_for(aws_env, **extra: str) -> dict[str, str]:
    """Return the subprocess environment with PATH and *extra*."""
    return {**aws_env, "PATH": os.environ["PATH"], **extra}


def _parts(value: str) -> list[str]:
    """Every piece of *value* a careless message could show (whole, halves, around '#')."""
    return [value, *re.split(r"[#\s]", value), value[: len(value) // 2], value[len(value) // 2 :]]


# -- finding a: check printed secret values ------------------------------------------------------


def test_check_table_and_json_show_no_part_of_a_non_dotenv_secret(aws_env, seed) -> None:
    """A non-dotenv secret fed as an env-file shows up in neither check's table nor its JSON."""
    ref = seed.object(BUCKET, "not-dotenv", NOT_DOTENV)
    env = env_for(aws_env, INJECTOR_ENV_FILES=ref)
    table = runner.run(env, "check")
    report = runner.run(env, "check", "--json")
    assert table.code == report.code == 65, table.err
    row = next(r for r in json.loads(report.stdout)["references"] if r["reference"] == ref)
    assert row["error"] == "env-file line 1: no '=' (expected NAME=value)"
    for part in _parts(NOT_DOTENV):
        assert part.encode() not in table.stdout + table.stderr + report.stdout + report.stderr


def test_exec_error_for_a_non_dotenv_secret_names_only_the_line(aws_env, seed, tmp_path) -> None:
    """Exec's one-line error names the reference and line number, never a piece of the secret."""
    ref = seed.object(BUCKET, "not-dotenv-2", NOT_DOTENV)
    result = runner.run(env_for(aws_env, INJECTOR_ENV_FILES=ref), "touch", str(tmp_path / "ran"))
    assert result.code == 65
    assert not (tmp_path / "ran").exists()
    failed = result.events()[-1]
    assert (failed["reference"], failed["error"]) == (
        ref,
        "env-file line 1: no '=' (expected NAME=value)",
    )
    for part in _parts(NOT_DOTENV):
        assert part.encode() not in result.stderr


def test_check_applies_exec_validation_to_every_delivery(aws_env, seed) -> None:
    """Check refuses what exec refuses (a NUL, an env-file name clash) with exec's exit code."""
    nul = seed.object(BUCKET, "nul", b"a\x00b")
    first = seed.object(BUCKET, "one.env", "SAME=1\n")
    second = seed.object(BUCKET, "two.env", "SAME=2\n")
    for extra, code in (({"N": nul}, 65), ({"INJECTOR_ENV_FILES": f"{first} {second}"}, 65)):
        checked = runner.run(env_for(aws_env, **extra), "check", "--json")
        executed = runner.run(env_for(aws_env, **extra), "true")
        assert checked.code == executed.code == code, (checked.err, executed.err)


def test_two_env_files_with_one_name_are_65_naming_both(aws_env, seed, tmp_path) -> None:
    """Two env-files that yield the same variable are refused, naming both references."""
    first = seed.object(BUCKET, "a.env", "SAME=1\nONLY_A=x\n")
    second = seed.object(BUCKET, "b.env", "SAME=2\n")
    result = runner.run(env_for(aws_env, INJECTOR_ENV_FILES=f"{first} {second}"), "true")
    assert result.code == 65
    error = result.events()[-1]["error"]
    assert first in error
    assert second in error
    assert "SAME" in error


# -- finding c: check ran dumpable with core dumps on ----------------------------------------------


def _wait_for(proxy, running: runner.Running, operation: str) -> None:
    deadline = time.monotonic() + 20
    while proxy.count(operation) == 0:
        assert running.proc.poll() is None, "injector ended before fetching"
        assert time.monotonic() < deadline, "injector never fetched"
        time.sleep(0.02)


def test_check_is_not_dumpable_and_has_no_core_limit(aws_env, proxy, seed, tmp_path) -> None:
    """Under `ulimit -c unlimited`, check fetches with RLIMIT_CORE 0 and non-dumpable."""
    ref = seed.object(BUCKET, "held", "held-secret-value")
    proxy.add_rule(operation="GetObject", delay=HOLD)
    tmp_path.chmod(0o755)
    env = env_for(aws_env, AWS_ENDPOINT_URL=proxy.url, S=ref, HOME=str(tmp_path))
    drop = ("prlimit", "--core=unlimited:unlimited", "--",
            "setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups")  # fmt: skip
    running = runner.start(env, "check", prefix=drop)
    _wait_for(proxy, running, "GetObject")
    limits = Path(f"/proc/{running.pid}/limits").read_text()
    owner = Path(f"/proc/{running.pid}/environ").stat().st_uid
    result = running.wait()
    assert result.code == 0, result.err
    assert re.search(r"^Max core file size\s+0\s", limits, re.MULTILINE), limits
    assert owner == 0, "a dumpable process's /proc files belong to its own user"


# -- finding e: env-file parsing outside the deadline, and quadratic -------------------------------


def test_run_of_spaces_in_an_env_file_parses_in_linear_time(aws_env, seed) -> None:
    """120,000 spaces in one value parse well inside a 5-second deadline (once: 11 s at 2)."""
    ref = seed.object(BUCKET, "spaces.env", "A=" + " " * 120_000 + "x\nB=y\n")
    result = runner.run(env_for(aws_env, INJECTOR_ENV_FILES=ref, INJECTOR_TIMEOUT="5"), "env", "-0",
                        target_prints=True)  # fmt: skip
    assert result.child_env()[b"A"] == b"x"


def test_million_line_env_file_ends_within_the_deadline(aws_env, seed) -> None:
    """A 1e6-line env-file either finishes within the deadline or fails at it (69)."""
    ref = seed.object(BUCKET, "big.env", "".join(f"K{i}=v\n" for i in range(1_000_000)))
    result = runner.run(env_for(aws_env, INJECTOR_ENV_FILES=ref, INJECTOR_TIMEOUT="3",
                                INJECTOR_PRISTINE="true"), "true")  # fmt: skip
    assert result.code in {0, 65, 69}, result.err
    assert result.duration < 3 + 10  # the deadline plus the interpreter's start on a busy machine


def test_env_file_above_the_cap_is_65(aws_env, seed) -> None:
    """An env-file above INJECTOR_MAX_SECRET_BYTES is refused with 65 naming it."""
    ref = seed.object(BUCKET, "capped.env", "A=" + "x" * 4096 + "\n")
    extra = {"INJECTOR_ENV_FILES": ref, "INJECTOR_MAX_SECRET_BYTES": "1024"}
    result = runner.run(env_for(aws_env, **extra), "true")
    assert result.code == 65
    assert result.events()[-1]["reference"] == ref


def test_check_env_file_that_is_a_fifo_is_refused_not_waited_on(aws_env, tmp_path) -> None:
    """Check --env-file on a FIFO nobody writes ends at once with 78, instead of hanging."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = runner.run(env_for(aws_env, INJECTOR_TIMEOUT="2"), "check", "--env-file", str(fifo))
    assert result.code == 78, result.err
    assert result.duration < 15


# -- finding f: JSON pointers that crashed ------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "pointer"),
    [("[" * 100_000 + "]" * 100_000, "/0"), ('{"a": "\\ud800"}', "/a"), ('{"a": NaN}', "/a")],
    ids=["deeply-nested", "lone-surrogate", "nan"],
)
def test_json_pointer_into_a_hostile_document_is_65_without_traceback(
    aws_env, seed, tmp_path, document, pointer
) -> None:
    """Deep nesting, a lone surrogate or NaN give 65 and one line, never 70 or a traceback."""
    ref = seed.object(BUCKET, f"doc-{len(document)}-{pointer[1:]}", document) + "#" + pointer
    result = runner.run(env_for(aws_env, J=ref), "touch", str(tmp_path / "ran"))
    assert result.code == 65, result.err
    assert "Traceback" not in result.err
    assert "\\ud800" not in result.err


def test_json_numbers_are_delivered_as_stored(aws_env, seed) -> None:
    """A number selected by a pointer is the text stored: 1e3 stays 1e3, 1E400 stays 1E400."""
    ref = seed.object(BUCKET, "numbers.json", '{"a": 1e3, "b": 1E400, "c": 10, "d": -0.50}')
    extra = {k: f"{ref}#/{k.lower()}" for k in "ABCD"}
    env = runner.run(env_for(aws_env, **extra), "env", "-0", target_prints=True).child_env()
    assert [env[k.encode()] for k in "ABCD"] == [b"1e3", b"1E400", b"10", b"-0.50"]


# -- finding g: redaction that revealed ---------------------------------------------------------


def test_redaction_keeps_keys_levels_events_and_references(aws_env, seed, tmp_path) -> None:
    """With secrets 'prod' and 'error', a failure line keeps its keys, level and reference."""
    prod = seed.object(BUCKET, "word-prod", "prod")
    err = seed.object(BUCKET, "word-error", "error")
    missing = "ref+awsssm://prod/missing"
    RECORDED.difference_update({b"prod", b"error"})  # public words here: the test checks them
    result = runner.run(env_for(aws_env, A=prod, B=err, M=missing), "touch", str(tmp_path / "ran"))
    assert result.code == 66
    failed = result.events()[-1]
    assert {"event", "level", "reference", "error", "kind", "exit_code"} <= set(failed)
    assert (failed["level"], failed["event"], failed["reference"]) == ("error", "failed", missing)


# -- finding h: the seed convention is not a reference ------------------------------------------


def test_seed_name_is_an_object_key_only(aws_env, seed) -> None:
    """CREDENTIALS_<NAME> names the object key exactly: no pointer, no percent-decoding."""
    seed.object("my-secrets-bucket-rv", "J#/a", "hash-key-value")
    seed.object("my-secrets-bucket-rv", "A%2Fb", "percent-key-value", create=False)
    extra = {"BUCKETSUFFIX": "rv", "CREDENTIALS_J#/a": "true", "CREDENTIALS_A%2Fb": "true"}
    env = runner.run(env_for(aws_env, **extra), "env", "-0", target_prints=True).child_env()
    assert env[b"J#/a"] == b"hash-key-value"
    assert env[b"A%2Fb"] == b"percent-key-value"


def test_seed_name_ending_in_file_gets_file_delivery(aws_env, seed, tmp_path, shm) -> None:
    """CREDENTIALS_DB_PASSWORD_FILE=true puts a file path, not the value, in DB_PASSWORD_FILE."""
    seed.object("my-secrets-bucket-rf", "DB_PASSWORD_FILE", "file-delivered-value")
    extra = {"BUCKETSUFFIX": "rf", "CREDENTIALS_DB_PASSWORD_FILE": "true",
             "INJECTOR_SECRETS_DIR": str(shm)}  # fmt: skip
    script = 'import os; print(open(os.environ["DB_PASSWORD_FILE"]).read())'
    result = runner.run(env_for(aws_env, **extra), "python3", "-c", script, target_prints=True)
    assert result.code == 0, result.err
    assert result.stdout.strip() == b"file-delivered-value"


@pytest.fixture
def shm():
    """Give a fresh path under /dev/shm (not created), removed afterwards with its files."""
    import shutil
    import uuid

    path = Path("/dev/shm") / f"injector-review-{uuid.uuid4().hex}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- finding j: the child must not gain variables -----------------------------------------------


def test_child_does_not_gain_python_locale_coercion(aws_env, seed) -> None:
    """Under LANG=C, the child gets no LC_CTYPE=C.UTF-8 that Python added for itself."""
    ref = seed.object(BUCKET, "locale", "locale-value")
    env = {k: v for k, v in env_for(aws_env, S=ref, LANG="C").items() if not k.startswith("LC_")}
    child = runner.run(env, "env", "-0", target_prints=True).child_env()
    assert b"LC_CTYPE" not in child
    assert child[b"S"] == b"locale-value"
