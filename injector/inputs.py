"""Read a file the user names, or stdin, without ever hanging or buffering past a cap.

:func:`read` is the one way injector reads user-named input (``put --from-file``, ``put``
and ``encrypt`` on stdin, ``check --env-file``):

- a named path must be a regular file: a FIFO, device, socket or directory is refused (78)
  before it is read (``stat``, then ``fstat`` on the descriptor opened with ``O_NONBLOCK``,
  so that opening a FIFO nobody writes cannot block either);
- stdin may be anything (a pipe, a terminal, a file); each read waits with ``poll`` for at
  most the time left before the overall deadline, so a stdin nobody writes ends at the
  deadline (69);
- data is read in chunks and never beyond ``limit + 1`` bytes: over the cap is 65.
"""

from __future__ import annotations

import os
import select
import stat
from typing import TYPE_CHECKING

from injector.errors import BadDataError, ConfigError, UnavailableError

if TYPE_CHECKING:
    from injector.deadline import Deadline

CHUNK = 64 * 1024
STDIN = 0
_OPEN = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read(path: str | None, *, limit: int, deadline: Deadline, label: str) -> bytes:
    """Return the bytes of *path* (None or ``-``: stdin), at most *limit*, before *deadline*.

    *label* names the input in messages (``--from-file``, ``stdin``, ``--env-file``).
    """
    if path is None or path == "-":
        return _read(STDIN, limit, deadline, "stdin", wait=True)
    shown = path if path.isprintable() else repr(path)
    what = f"{label} {shown}"
    fd = _open_regular(path, what)
    try:
        return _read(fd, limit, deadline, what, wait=False)
    finally:
        os.close(fd)


def _open_regular(path: str, what: str) -> int:
    try:
        _refuse_special(os.stat(path).st_mode, what)
        fd = os.open(path, _OPEN)
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}") from None
    try:
        _refuse_special(os.fstat(fd).st_mode, what)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_special(mode: int, what: str) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    msg = f"{what} is {kind}, not a regular file (pipe other input on stdin)"
    raise ConfigError(msg)


def _read(fd: int, limit: int, deadline: Deadline, what: str, *, wait: bool) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        if wait:
            _wait_readable(fd, deadline, what)
        else:
            deadline.check(what)
        try:
            data = os.read(fd, min(CHUNK, limit + 1 - total))
        except BlockingIOError:
            continue  # someone made the descriptor non-blocking: poll again
        except OSError as exc:
            raise ConfigError(f"cannot read {what}: {exc.strerror}") from None
        if not data:
            return b"".join(chunks)
        total += len(data)
        if total > limit:
            msg = f"{what} is larger than INJECTOR_MAX_SECRET_BYTES ({limit} bytes)"
            raise BadDataError(msg)
        chunks.append(data)


def _wait_readable(fd: int, deadline: Deadline, what: str) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    left = deadline.check(what)
    if not poller.poll(max(1, int(left * 1000) + 1)):
        msg = f"nothing more arrived before the overall deadline of {deadline.seconds:g}s"
        raise UnavailableError(f"{msg} (INJECTOR_TIMEOUT)", reference=what)
