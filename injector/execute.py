"""Find the target before anything is fetched, and exec it: the package's only execve."""

from __future__ import annotations

import errno
import os
import signal
import stat
import sys
from typing import TYPE_CHECKING, NoReturn

from injector.errors import (
    BadDataError,
    InjectorError,
    TargetNotExecutableError,
    TargetNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# Python leaves these ignored, and ignored dispositions survive execve.
RESET_SIGNALS = ("SIGPIPE", "SIGXFSZ")


def locate(command: str, path: str | None) -> str:
    """Return the file execve should run for *command*, searching *path* like execvp."""
    if not command:
        raise TargetNotFoundError("the command is empty")
    if "/" in command:
        _check_file(command)
        return command
    denied: str | None = None
    for directory in (path if path is not None else os.defpath).split(":"):
        candidate = os.path.join(directory or ".", command)
        try:
            _check_file(candidate)
        except TargetNotExecutableError:
            denied = denied or candidate
        except TargetNotFoundError:
            continue
        else:
            return candidate
    if denied:
        raise TargetNotExecutableError(f"{denied}: permission denied")
    raise TargetNotFoundError(f"{command}: not found on PATH")


def _check_file(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        raise TargetNotFoundError(f"{path}: no such file") from None
    if stat.S_ISDIR(mode) or not os.access(path, os.X_OK):
        raise TargetNotExecutableError(f"{path}: not executable")


def exec_target(
    executable: str,
    argv: list[str],
    env: dict[bytes, bytes],
    before: Callable[[], None] | None = None,
) -> NoReturn:
    """Replace this process with the target; only returns by raising InjectorError."""
    _reset_signals()
    if before is not None:
        before()
    sys.stderr.flush()
    try:
        os.execve(executable, argv, env)  # noqa: S606 - exec is the product
    except OSError as exc:
        raise _exec_error(executable, exc) from None
    raise AssertionError  # pragma: no cover - execve does not return


def _reset_signals() -> None:
    for name in RESET_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _exec_error(executable: str, exc: OSError) -> InjectorError:
    reason = os.strerror(exc.errno or 0)
    if exc.errno == errno.ENOENT:
        return TargetNotFoundError(f"{executable}: {reason}")
    if exc.errno == errno.E2BIG:
        msg = "the environment and arguments are too large to exec; deliver secrets as files"
        return BadDataError(msg)
    return TargetNotExecutableError(f"{executable}: {reason}")
