"""Injector started with standard descriptors closed fails cleanly, never with a traceback."""

from __future__ import annotations

import os
import subprocess

from tests.support import runner


def _closed(redirect: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    argv = ["sh", "-c", f'exec "$@" {redirect}', "sh", *runner.command(list(args))]
    env = runner.environment({"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    return subprocess.run(argv, env=env, capture_output=True, check=False, timeout=120)


def test_closed_stdin_still_runs() -> None:
    """With fd 0 closed, injector version still prints and exits 0."""
    done = _closed("<&-", "version")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout


def test_closed_stdout_is_74() -> None:
    """With fd 1 closed, printing the version is an output error (74) with a one-line report."""
    done = _closed(">&-", "version")
    assert done.returncode == 74, done.stderr[-2000:]
    assert b"Traceback" not in done.stderr
    assert b"stdout is closed" in done.stderr
