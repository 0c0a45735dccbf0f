"""Deliver ``*_FILE`` secrets as files on a tmpfs, all or nothing.

The directory is ``INJECTOR_SECRETS_DIR`` (created if missing, used as is if it exists and
is empty), else ``/run/secrets`` when that is a tmpfs, else a private directory under
``/dev/shm``. It must be a tmpfs or ramfs unless ``INJECTOR_ALLOW_DISK`` is set. Each file
is created new (``O_EXCL|O_NOFOLLOW``), written fully, given its mode and owner, and synced;
if anything fails, every file written so far (and a directory injector made) is removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from injector import log
from injector.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from injector.config import Config
    from injector.secret import Secret

RUN_SECRETS = "/run/secrets"
SHM = "/dev/shm"  # noqa: S108 - a tmpfs on purpose, not a temporary file
TMPFS_MAGIC = 0x01021994
RAMFS_MAGIC = 0x858458F6
MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})
SUFFIX = "_FILE"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Written:
    """The files delivered for one start: variable -> path, and how to take them back."""

    directory: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    created_directory: bool = False

    def remove(self) -> None:
        """Delete every file written (and the directory, if injector created it)."""
        for path in self.paths.values():
            with contextlib.suppress(OSError):
                os.unlink(path)
        if self.created_directory and self.directory:
            with contextlib.suppress(OSError):
                os.rmdir(self.directory)
        self.paths.clear()


def file_name(variable: str) -> str:
    """Name the file after the variable without ``_FILE``; refuse anything path-like."""
    name = variable.removesuffix(SUFFIX) or variable
    if "/" in name or "\x00" in name or name in {".", ".."} or ".." in name:
        raise ConfigError(f"{variable!r} cannot name a file")
    return name


def deliver(wanted: Mapping[str, Secret], config: Config) -> Written:
    """Write each ``*_FILE`` variable's secret; on any failure remove them all and raise."""
    if not wanted:
        return Written()
    written = Written()
    try:
        written.directory, written.created_directory = prepare(config)
        for variable, secret in wanted.items():
            path = os.path.join(written.directory, file_name(variable))
            fd = _create(path)
            written.paths[variable] = path  # from here on, a failure removes it
            _fill(fd, secret.reveal(), config)
        _sync_directory(written.directory)
    except BaseException:
        written.remove()
        raise
    log.info("secret_files_written", directory=written.directory, files=len(written.paths))
    return written


def directory_for(config: Config) -> str | None:
    """Pick the configured directory, ``/run/secrets`` if a tmpfs, or None (make one)."""
    if config.secrets_dir:
        return os.path.abspath(config.secrets_dir)
    if os.path.isdir(RUN_SECRETS) and filesystem(RUN_SECRETS) in MEMORY_FILESYSTEMS:
        return RUN_SECRETS
    return None


def preflight(config: Config) -> None:
    """Check, before anything is fetched, that the secrets directory would be accepted."""
    directory = directory_for(config)
    if directory is None:
        _check_memory(SHM, config)
    elif os.path.lexists(directory):
        _check_existing(directory, config, allow_files=directory == RUN_SECRETS)
    else:
        _check_memory(os.path.dirname(directory) or ".", config)


def prepare(config: Config) -> tuple[str, bool]:
    """Return (directory, created): the checked directory the files go into."""
    directory = directory_for(config)
    if directory is None:
        _check_memory(SHM, config)
        made = tempfile.mkdtemp(prefix="injector-", dir=SHM)
        _own(made, config)
        return made, True
    if os.path.lexists(directory):
        _check_existing(directory, config, allow_files=directory == RUN_SECRETS)
        return directory, False
    _check_memory(os.path.dirname(directory) or ".", config)
    try:
        os.mkdir(directory, 0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create {directory}: {exc.strerror}") from None
    _own(directory, config)
    return directory, True


def _check_existing(directory: str, config: Config, *, allow_files: bool) -> None:
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"INJECTOR_SECRETS_DIR {directory} is not a directory")
    if not allow_files and os.listdir(directory):
        raise ConfigError(f"INJECTOR_SECRETS_DIR {directory} is not empty")
    _check_memory(directory, config)


def _check_memory(directory: str, config: Config) -> None:
    kind = filesystem(directory)
    if kind in MEMORY_FILESYSTEMS or config.allow_disk:
        return
    msg = (
        f"{directory} is on {kind or 'an unknown file system'}, not tmpfs/ramfs: secret files "
        "would reach a disk (mount a tmpfs there, or set INJECTOR_ALLOW_DISK=true)"
    )
    raise ConfigError(msg)


def filesystem(path: str) -> str | None:
    """Return the file system type of *path* (statfs magic, else /proc/self/mountinfo)."""
    magic = _statfs_magic(path)
    if magic == TMPFS_MAGIC:
        return "tmpfs"
    if magic == RAMFS_MAGIC:
        return "ramfs"
    return _mountinfo_type(path)


def _statfs_magic(path: str) -> int | None:
    import ctypes  # noqa: PLC0415 - only when files are delivered

    buffer = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.statfs(os.fsencode(path), buffer) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return ctypes.c_ulong.from_buffer(buffer).value & 0xFFFFFFFF


def _mountinfo_type(path: str) -> str | None:
    """Return the type of the longest mount point that contains *path*."""
    real = os.path.realpath(path)
    best, kind = "", None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                fields = line.split()
                if "-" not in fields:
                    continue
                point = fields[4].replace("\\040", " ")
                inside = real == point or real.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, fields[fields.index("-") + 1]
    except OSError:
        return None
    return kind


def _own(directory: str, config: Config) -> None:
    if config.file_owner is None:
        return
    try:
        os.chown(directory, *config.file_owner)
    except OSError as exc:
        os.rmdir(directory)
        msg = f"cannot give {directory} to INJECTOR_FILE_OWNER: {exc.strerror}"
        raise ConfigError(msg) from None


def _create(path: str) -> int:
    try:
        return os.open(path, _CREATE, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create secret file {path}: {exc.strerror}") from None


def _fill(fd: int, data: bytes, config: Config) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if config.file_owner is not None:
            os.fchown(fd, *config.file_owner)
        os.fchmod(fd, config.file_mode)
        os.fsync(fd)
    except OSError as exc:
        raise ConfigError(f"cannot write secret file: {exc.strerror}") from None
    finally:
        os.close(fd)


def _sync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
