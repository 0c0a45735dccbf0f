"""Run injector as a subprocess and record every run for the leak check.

``run(env, *args)`` runs ``python -m injector ARGS`` (or ``$INJECTOR_BIN ARGS`` when that is
set) with exactly *env* (plus ``PYTHONPATH`` for the module form) and returns a :class:`Run`.
``start(...)`` does the same without waiting (``.pid`` while it runs, ``.wait()`` for the Run).
Every Run lands in :data:`RUNS`; the integration conftest's autouse fixture checks, after each
test, that no seeded value appears in any run's stderr, nor in its stdout unless the test said
the target prints it (``target_prints=True``). Stdin given to injector (``put``, ``encrypt``)
counts as a secret too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 60.0
RUNS: list[Run] = []
_LOCK = threading.Lock()
EXTRA_SECRETS: set[bytes] = set()


@dataclass
class Run:
    """What one injector process did."""

    argv: list[str]
    code: int
    stdout: bytes
    stderr: bytes
    duration: float
    target_prints: bool = False
    timed_out: bool = False

    @property
    def returncode(self) -> int:
        """Return the exit code (``subprocess.CompletedProcess`` spelling)."""
        return self.code

    @property
    def err(self) -> str:
        """Return stderr as text."""
        return self.stderr.decode("utf-8", "replace")

    def child_env(self) -> dict[bytes, bytes]:
        """Return the target's environment as printed by ``env -0`` (asserting success)."""
        assert self.code == 0, self.err
        return dict(item.split(b"=", 1) for item in self.stdout.split(b"\0") if item)  # type: ignore[misc]

    def events(self) -> list[dict[str, Any]]:
        """Return the JSON log lines on stderr (other lines skipped)."""
        found = []
        for line in self.err.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
        return found


def command(args: tuple[str, ...] | list[str]) -> list[str]:
    """Return the argv that runs injector with *args*."""
    binary = os.environ.get("INJECTOR_BIN")
    if binary:
        return [binary, *args]
    rcfile = os.environ.get("INJECTOR_COVERAGE_RC")
    if rcfile:  # measured: coverage saves its data at os._exit and before execve
        coverage = [sys.executable, "-m", "coverage", "run", f"--rcfile={rcfile}"]
        return [*coverage, "-m", "injector", *args]
    return [sys.executable, "-m", "injector", *args]


def environment(env: dict[str, str]) -> dict[str, str]:
    """Return *env*, plus ``PYTHONPATH`` when injector runs as a module from the checkout."""
    if os.environ.get("INJECTOR_BIN") or "PYTHONPATH" in env:
        return dict(env)
    return {**env, "PYTHONPATH": str(ROOT)}


def remember(*values: bytes | str) -> None:
    """Add values that no injector output may show (besides what the seeder stored)."""
    for value in values:
        EXTRA_SECRETS.add(value.encode() if isinstance(value, str) else value)


@dataclass
class Running:
    """An injector process started by :func:`start`."""

    proc: subprocess.Popen[bytes]
    argv: list[str]
    target_prints: bool
    started: float
    _out: list[bytes] = field(default_factory=list)
    _ended: float = 0.0
    _thread: threading.Thread | None = None

    @property
    def pid(self) -> int:
        """Return the process id (injector's, also through ``setpriv``/``prlimit``)."""
        return self.proc.pid

    def _collect(self, stdin: bytes | None) -> None:
        out, err = self.proc.communicate(stdin)
        self._ended = time.monotonic()
        self._out.extend((out, err))

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> Run:
        """Wait for the process (killing it after *timeout*) and return the recorded Run."""
        assert self._thread is not None
        self._thread.join(timeout)
        timed_out = self._thread.is_alive()
        if timed_out:
            self.proc.kill()
            self._thread.join()
        out, err = self._out
        run = Run(self.argv, self.proc.returncode, out, err, self._ended - self.started,
                  self.target_prints, timed_out)
        with _LOCK:
            RUNS.append(run)
        assert not timed_out, f"injector still running after {timeout}s: {run.err[-2000:]}"
        return run


def start(
    env: dict[str, str], *args: str, target_prints: bool = False,
    stdin: bytes | None = None, prefix: tuple[str, ...] = (),
) -> Running:
    """Start injector with *args* in *env* (``prefix`` runs it through e.g. setpriv)."""
    if stdin and len(stdin.strip()) >= 4:
        remember(stdin, stdin.strip())
    argv = [*prefix, *command(args)]
    proc = subprocess.Popen(
        argv, env=environment(env), stdin=subprocess.PIPE if stdin is not None else
        subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    running = Running(proc, argv, target_prints, time.monotonic())
    running._thread = threading.Thread(target=running._collect, args=(stdin,), daemon=True)
    running._thread.start()
    return running


def run(
    env: dict[str, str], *args: str, target_prints: bool = False, stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT, prefix: tuple[str, ...] = (),
) -> Run:
    """Run injector with *args* in *env* and return the recorded :class:`Run`."""
    return start(env, *args, target_prints=target_prints, stdin=stdin,
                 prefix=prefix).wait(timeout)


def leaks(secrets: set[bytes], runs: list[Run] | None = None) -> list[str]:
    """Describe every secret (4+ bytes) found in a run's stderr, or stdout if not exempt."""
    found = []
    for one in RUNS if runs is None else runs:
        streams = [("stderr", one.stderr)]
        if not one.target_prints:
            streams.append(("stdout", one.stdout))
        for name, data in streams:
            for secret in secrets:
                if len(secret) >= 4 and secret in data:
                    shown = secret[:12] + (b"..." if len(secret) > 12 else b"")
                    found.append(f"{shown!r} in the {name} of {' '.join(one.argv[-3:])}")
    return found


def reset() -> None:
    """Forget recorded runs and extra secrets (before each test)."""
    with _LOCK:
        RUNS.clear()
    EXTRA_SECRETS.clear()


def run_with(aws_env: dict[str, str], extra: dict[str, str], *argv: str,
             secrets: tuple[bytes, ...] = ()) -> Any:
    """Run injector with *aws_env* plus *extra* (default target ``env -0``); no value in stderr."""
    env = {**aws_env, "PATH": os.environ["PATH"], **extra}
    proc = run(env, *(argv or ("env", "-0")), target_prints=not argv)
    for secret in secrets:
        assert secret not in proc.stderr, "a secret value reached stderr"
    return proc


def child_env(proc: Any) -> dict[bytes, bytes]:
    """Return the target's environment as printed by ``env -0``."""
    assert proc.returncode == 0, proc.stderr.decode()
    return dict(item.split(b"=", 1) for item in proc.stdout.split(b"\0") if item)  # type: ignore[misc]
