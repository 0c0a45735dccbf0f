"""``injector copy DEST``: copy this binary, for init containers in images without ``cp``."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from injector import launchers, log
from injector.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

FLAGS: dict[str, bool] = {}
CHUNK = 1 << 20


def source_path(environ: Mapping[str, str]) -> str:
    """Path of the file this process was started from (the outer static binary)."""
    outer = launchers.program_path(environ)
    if outer is not None:
        return outer
    msg = "copy works only from the built binary (dist/injector), not from python -m injector"
    raise ConfigError(msg)


def main(_config: Config, _flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Copy the binary to DEST (a file, or a directory to put ``injector`` into), mode 0755."""
    if len(args) != 1:
        raise UsageError("copy takes exactly one DEST")
    dest = args[0]
    if os.path.isdir(dest):
        dest = os.path.join(dest, "injector")
    source = source_path(os.environ)
    temporary = f"{dest}.tmp-{os.getpid()}"
    try:
        _copy(source, temporary)
        os.replace(temporary, dest)
    except OSError as exc:
        _discard(temporary)
        raise ConfigError(f"cannot copy to {dest}: {exc.strerror}") from None
    log.info("copied", source=source, dest=dest, bytes=os.path.getsize(dest))
    return 0


def _copy(source: str, dest: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with open(source, "rb") as src, os.fdopen(os.open(dest, flags, 0o755), "wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
        out.flush()
        os.fchmod(out.fileno(), 0o755)
        os.fsync(out.fileno())


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
