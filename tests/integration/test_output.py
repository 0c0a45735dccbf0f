"""Closed or broken stdout under the commands that print: exit 74 and one line, no traceback.

Regression tests for finding f of issue 12 (``injector version | head -c0`` gave a raw
traceback and exit 120; ``injector version >&-`` exit 70).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support import runner

pytestmark = pytest.mark.security
COMMANDS = [["version"], ["help"], ["--help"], ["check"]]


def _environment() -> dict[str, str]:
    return runner.environment({"PATH": os.environ["PATH"], "AWS_EC2_METADATA_DISABLED": "true"})


def _assert_one_output_failure(code: int, stderr: bytes, error: str) -> None:
    assert code == 74, stderr.decode()
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, stderr.decode()
    event = json.loads(lines[0])
    assert (event["event"], event["exit_code"], event["error"]) == ("failed", 74, error)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_closed_stdout_is_74_with_one_line(args: list[str]) -> None:
    """With stdout closed (``>&-``), a printing command exits 74 with one line on stderr."""
    argv = ["sh", "-c", 'exec "$@" >&-', "sh", *runner.command(args)]
    proc = subprocess.run(
        argv,
        env=_environment(),
        capture_output=False,
        stderr=subprocess.PIPE,
        check=False,
        timeout=60,
    )
    _assert_one_output_failure(proc.returncode, proc.stderr, "stdout is closed")


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_broken_pipe_is_74_with_one_line(args: list[str]) -> None:
    """With stdout a pipe nobody reads any more (``| head -c0``), the command exits 74."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            runner.command(args),
            env=_environment(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    error = "cannot write to stdout: the reader went away"
    _assert_one_output_failure(proc.returncode, proc.stderr, error)


def test_closed_stdout_stays_closed_for_the_program() -> None:
    """Exec mode holds a closed fd 1 only for itself: the program still finds it closed."""
    probe = "import os, sys\ntry:\n    os.fstat(1)\nexcept OSError:\n    sys.exit(42)\n"
    argv = ["sh", "-c", 'exec "$@" >&-', "sh", *runner.command(["python3", "-c", probe])]
    proc = subprocess.run(argv, env=_environment(), stderr=subprocess.PIPE, check=False, timeout=60)
    assert (proc.returncode, proc.stderr) == (42, b"")


def test_closed_stderr_changes_nothing() -> None:
    """With stderr closed, version still prints and exits 0."""
    argv = ["sh", "-c", 'exec "$@" 2>&-', "sh", *runner.command(["version"])]
    proc = subprocess.run(argv, env=_environment(), stdout=subprocess.PIPE, check=False, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith(b"injector ")
