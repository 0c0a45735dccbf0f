"""Arbitrary text in every option and every INJECTOR_* variable: a documented exit, never 70.

Regression test for finding f of issue 12 (``INJECTOR_MAX_CONCURRENCY=²`` and friends were
internal errors). ``cli.main`` runs in-process with a patched environment; the target does
not exist, so a start that gets through its configuration ends at 127, before any fetch,
and ``os.execve`` is replaced so that nothing can ever be exec'd from the test process.
"""

from __future__ import annotations

import os
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from injector import cli, config

pytestmark = pytest.mark.security
DOCUMENTED = {64, 65, 66, 69, 73, 74, 77, 78, 126, 127}
TARGET = "/nonexistent/injector-fuzz-target"
VARIABLES = [o.variable for o in config.OPTIONS] + ["INJECTOR_ENTRYPOINT"]
FLAGS = [o.flag for o in config.OPTIONS]
BASE = {
    "PATH": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "fuzz",
    "AWS_SECRET_ACCESS_KEY": "fuzz",
    "AWS_REGION": "us-east-1",
}
# What the OS can hand over: any text without NUL, and undecodable bytes (surrogateescape).
TEXT = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=40
) | st.binary(max_size=20).filter(lambda b: b"\x00" not in b).map(
    lambda b: b.decode("utf-8", "surrogateescape")
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def _no_exec(*_args: object) -> None:
    msg = "the fuzz test reached execve"
    raise AssertionError(msg)


def _run(argv: list[str], environ: dict[str, str]) -> int:
    with (
        mock.patch.dict(os.environ, {**BASE, **environ}, clear=True),
        mock.patch.object(os, "execve", _no_exec),
    ):
        return cli.main(argv)


@FUZZ
@given(variable=st.sampled_from(VARIABLES), text=TEXT)
@example(variable="INJECTOR_MAX_CONCURRENCY", text="²")
@example(variable="INJECTOR_FILE_OWNER", text="²:0")
@example(variable="INJECTOR_FILE_OWNER", text="99999999999999999999:0")
@example(variable="INJECTOR_TIMEOUT", text="nan")
@example(variable="INJECTOR_TIMEOUT", text="1e999")
@example(variable="INJECTOR_FILE_MODE", text="0o1000")
@example(variable="INJECTOR_MAX_SECRET_BYTES", text="9" * 5000)
def test_any_variable_text_gives_a_documented_exit(
    variable: str, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any value of any INJECTOR_* variable gives 78 (or gets through to 127), never 70."""
    code = _run(["injector", TARGET], {variable: text})
    err = capsys.readouterr().err
    assert code in DOCUMENTED, err
    assert "Traceback" not in err


@FUZZ
@given(flag=st.sampled_from(FLAGS), text=TEXT, inline=st.booleans())
@example(flag="--max-concurrency", text="²", inline=False)
@example(flag="--file-owner", text="²:0", inline=True)
@example(flag="--timeout", text="inf", inline=False)
def test_any_option_text_gives_a_documented_exit(
    flag: str,
    text: str,
    inline: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Any value of any option (``--flag VALUE`` or ``--flag=VALUE``) gives 64 or 127, never 70."""
    option = config.BY_FLAG[flag]
    words = [f"{flag}={text}"] if inline or not option.takes_value else [flag, text]
    code = _run(["injector", *words, TARGET], {})
    err = capsys.readouterr().err
    assert code in DOCUMENTED, err
    assert "Traceback" not in err
