"""exec_target's failures and locate's edge cases, with their exit codes."""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from injector import execute
from injector.errors import BadDataError, TargetNotExecutableError, TargetNotFoundError


def test_empty_command_is_127() -> None:
    """An empty command is not found (127) without searching PATH."""
    with pytest.raises(TargetNotFoundError) as caught:
        execute.locate("", "/bin")
    assert caught.value.exit_code == 127


def test_empty_path_entry_means_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty PATH entry searches ".", as execvp does."""
    prog = tmp_path / "prog"
    prog.write_text("#!/bin/sh\n")
    prog.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    assert execute.locate("prog", ":/nonexistent") == "./prog"


@pytest.fixture(autouse=True)
def keep_signals() -> Iterator[None]:
    """Put back the dispositions exec_target resets: SIGPIPE at default would kill this worker."""
    saved = {name: signal.getsignal(getattr(signal, name)) for name in execute.RESET_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    yield
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _fail_with(monkeypatch: pytest.MonkeyPatch, code: int) -> list[str]:
    calls: list[str] = []

    def execve(path: str, argv: list[str], env: dict[bytes, bytes]) -> None:
        calls.append(path)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "execve", execve)
    return calls


@pytest.mark.parametrize(
    ("code", "error", "exit_code"),
    [
        (errno.ENOENT, TargetNotFoundError, 127),
        (errno.E2BIG, BadDataError, 65),
        (errno.EACCES, TargetNotExecutableError, 126),
        (errno.ENOEXEC, TargetNotExecutableError, 126),
    ],
)
def test_exec_failure_maps_to_exit_code(
    monkeypatch: pytest.MonkeyPatch, code: int, error: type[Exception], exit_code: int
) -> None:
    """A failing execve becomes the documented error and exit code, after the hook ran."""
    calls = _fail_with(monkeypatch, code)
    ran: list[bool] = []
    with pytest.raises(error) as caught:
        execute.exec_target("/bin/x", ["x"], {b"A": b"1"}, before=lambda: ran.append(True))
    assert caught.value.exit_code == exit_code  # type: ignore[attr-defined]
    assert calls == ["/bin/x"]
    assert ran == [True]
    assert "\n" not in str(caught.value)


def test_exec_without_hook_resets_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a hook, execve is still tried with SIGPIPE back to its default."""
    _fail_with(monkeypatch, errno.ENOENT)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    with pytest.raises(TargetNotFoundError):
        execute.exec_target("/bin/x", ["x"], {})
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_DFL


def test_deliver_without_files_raises_the_exec_error() -> None:
    """With nothing written, an exec failure is raised as is (127), with nothing to remove."""
    from injector import run
    from injector.config import Config

    with pytest.raises(TargetNotFoundError):
        run.deliver(run.NOTHING, {}, Config(), ["gone"], "/nonexistent/cov/gone")
