"""Deliver ``*_FILE`` secrets as files on a tmpfs, all or nothing.

The directory is ``INJECTOR_SECRETS_DIR`` (created if missing, used as is if it exists and
is empty), else ``/run/secrets`` when that is an acceptable tmpfs directory, else a private
directory under ``/dev/shm``. It is opened once, walking from ``/`` one component at a time
with ``O_NOFOLLOW|O_DIRECTORY`` (a symlink anywhere on the path is refused, never followed),
and every check and every file is made on that descriptor, so swapping the path for a
symlink or another directory while injector runs changes nothing:

- the directory must be a tmpfs or ramfs (``fstatfs``) unless ``INJECTOR_ALLOW_DISK`` is set;
- it must be owned by root, injector's effective uid or ``INJECTOR_FILE_OWNER``'s uid, and
  not writable by group or others; each directory above it must be owned by root or
  injector's uid and not writable by group or others unless it is root's and sticky
  (``/dev/shm``, ``/tmp``), as ssh's StrictModes asks of a home directory.

(``openat2(RESOLVE_NO_SYMLINKS)`` would open the path in one call, but the ownership rules
need a descriptor of every component anyway, so the walk is the one implementation.)
Each file is created new relative to the directory (``O_EXCL|O_NOFOLLOW``), written fully,
given its mode and owner, and synced; if anything fails, every file written so far (and a
directory injector made) is removed, relative to the same descriptors.
"""

from __future__ import annotations

import contextlib
import os
import stat
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
_STEP = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FINAL = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SHARED = stat.S_IWGRP | stat.S_IWOTH
_PRIVATE_TRIES = 16


@dataclass
class Place:
    """An open, checked secrets directory: its path, its descriptor, and its parent's."""

    path: str
    fd: int
    parent_fd: int
    name: str
    created: bool = False

    def close(self) -> None:
        """Close both descriptors (they are close-on-exec anyway)."""
        for fd in (self.fd, self.parent_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Written:
    """The files delivered for one start: variable -> path, and how to take them back."""

    directory: str | None = None
    paths: dict[str, str] = field(default_factory=dict)
    created_directory: bool = False
    place: Place | None = None
    names: dict[str, str] = field(default_factory=dict)

    def remove(self) -> None:
        """Delete every file written (and the directory, if injector created it)."""
        place = self.place
        if place is not None:
            for name in self.names.values():
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=place.fd)
            if place.created:
                with contextlib.suppress(OSError):
                    os.rmdir(place.name, dir_fd=place.parent_fd)
            place.close()
            self.place = None
        self.paths.clear()
        self.names.clear()


def file_name(variable: str) -> str:
    """Name the file after the variable without ``_FILE``; refuse anything path-like."""
    name = variable.removesuffix(SUFFIX) or variable
    if "/" in name or "\x00" in name or name in {".", ".."} or ".." in name:
        raise ConfigError(f"{variable!r} cannot name a file")
    return name


def deliver(contents: Mapping[str, Secret], config: Config) -> Written:
    """Write each ``*_FILE`` variable's secret; on any failure remove them all and raise."""
    if not contents:
        return Written()
    names = {variable: file_name(variable) for variable in contents}
    written = Written()
    try:
        place = written.place = _writable(config)
        written.directory, written.created_directory = place.path, place.created
        for variable, secret in contents.items():
            fd = _create(place, names[variable])
            written.names[variable] = names[variable]  # from here on, a failure removes it
            written.paths[variable] = os.path.join(place.path, names[variable])
            _fill(fd, secret.reveal(), config)
        _sync(place)
    except BaseException:
        written.remove()
        raise
    log.debug("secret_files_written", directory=written.directory, files=len(written.paths))
    return written


def _writable(config: Config) -> Place:
    place = open_directory(config, create=True)
    if place is None:  # cannot happen with create=True; never write without a directory
        raise ConfigError("no secrets directory")
    return place


def preflight(config: Config) -> None:
    """Check, before anything is fetched, that the secrets directory would be accepted.

    It runs :func:`open_directory`, the very checks delivery runs, without creating anything.
    """
    place = open_directory(config, create=False)
    if place is not None:
        place.close()


def open_directory(config: Config, *, create: bool) -> Place | None:
    """Open and check the secrets directory; None if it is still to be made (*create* False)."""
    if config.secrets_dir:
        path = os.path.abspath(config.secrets_dir)
        return _open(path, config, create=create, label=f"INJECTOR_SECRETS_DIR {path}")
    default = _run_secrets(config)
    if default is not None:
        return default
    return _private(config, create=create)


def _run_secrets(config: Config) -> Place | None:
    """Open /run/secrets if it passes every check (files in it allowed), else None."""
    try:
        return _open(RUN_SECRETS, config, create=False, label=RUN_SECRETS, allow_files=True)
    except ConfigError:
        return None


def _private(config: Config, *, create: bool) -> Place | None:
    """Make a fresh ``/dev/shm/injector-XXXXXXXX`` (or check /dev/shm could hold one)."""
    parent = _walk(SHM, SHM)
    try:
        _check_memory(parent, SHM, config)
        for _ in range(_PRIVATE_TRIES if create else 0):
            name = "injector-" + os.urandom(6).hex()
            with contextlib.suppress(FileExistsError):
                return _make(parent, name, os.path.join(SHM, name), config)
    except BaseException:
        os.close(parent)
        raise
    os.close(parent)
    if create:
        raise ConfigError(f"cannot create a private directory under {SHM}")
    return None


def _open(
    path: str, config: Config, *, create: bool, label: str, allow_files: bool = False
) -> Place | None:
    parent_path, name = os.path.split(path)
    if not name:
        raise ConfigError(f"{label} cannot be the root directory")
    parent = _walk(parent_path, label)
    try:
        return _open_in(parent, name, path, config, create=create, label=label, allow=allow_files)
    except BaseException:
        os.close(parent)
        raise


def _open_in(  # noqa: PLR0913 - one directory: where, what, and how strict
    parent: int, name: str, path: str, config: Config, *, create: bool, label: str, allow: bool
) -> Place | None:
    try:
        fd = _step(parent, name, _FINAL, label)
    except FileNotFoundError:
        _check_memory(parent, label, config)
        if not create:
            os.close(parent)
            return None
        try:
            return _make(parent, name, path, config)
        except FileExistsError:
            raise ConfigError(f"{label} appeared while injector was creating it") from None
    place = Place(path, fd, parent, name)
    try:
        _check_existing(place, config, label, allow_files=allow)
    except BaseException:
        os.close(fd)
        raise
    return place


def _walk(path: str, label: str) -> int:
    """Open directory *path* from ``/`` component by component, never following a symlink."""
    fd = os.open("/", _STEP)
    try:
        _check_parent(fd, "/", label)
        shown = ""
        for part in [p for p in path.split("/") if p]:
            shown += "/" + part
            try:
                step = _step(fd, part, _STEP, f"{label}: {shown}")
            except FileNotFoundError:
                raise ConfigError(f"{label}: {shown} does not exist") from None
            os.close(fd)
            fd = step
            _check_parent(fd, shown, label)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _step(parent: int, name: str, flags: int, where: str) -> int:
    """Open *name* under *parent* without following it; FileNotFoundError passes through."""
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        raise
    except NotADirectoryError:
        if _is_symlink(parent, name):
            raise ConfigError(f"{where} is a symlink, not a directory (never followed)") from None
        raise ConfigError(f"{where} is not a directory") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot open: {exc.strerror}") from None


def _is_symlink(parent: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _check_parent(fd: int, shown: str, label: str) -> None:
    """Refuse a directory above the secrets directory unless root's or ours, and unshared.

    Shared (group or others may write) is accepted only when root owns it and it is sticky.
    """
    info = os.fstat(fd)
    if info.st_uid not in {0, os.geteuid()}:
        msg = f"{label}: {shown} is owned by uid {info.st_uid}, not by root or injector's uid"
        raise ConfigError(msg)
    sticky_root = info.st_uid == 0 and info.st_mode & stat.S_ISVTX
    if info.st_mode & _SHARED and not sticky_root:
        raise ConfigError(f"{label}: {shown} is writable by group or others")


def _check_existing(place: Place, config: Config, label: str, *, allow_files: bool) -> None:
    info = os.fstat(place.fd)
    owners = {0, os.geteuid()} | ({config.file_owner[0]} if config.file_owner else set())
    if info.st_uid not in owners:
        msg = f"{label} is owned by uid {info.st_uid}, not by root or injector's uid"
        raise ConfigError(msg)
    if info.st_mode & _SHARED:
        msg = f"{label} is writable by group or others (chmod go-w it, or mount it mode=0700)"
        raise ConfigError(msg)
    _check_memory(place.fd, label, config)
    if not allow_files and os.listdir(place.fd):
        raise ConfigError(f"{label} is not empty")


def _make(parent: int, name: str, path: str, config: Config) -> Place:
    """Create *name* (mode 0700) under *parent*, open it without following, check, own it."""
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        raise  # the caller decides: try another name, or refuse
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None
    place = Place(path, -1, parent, name, created=True)
    try:
        try:
            place.fd = fd = _step(parent, name, _FINAL, path)
        except FileNotFoundError:
            raise ConfigError(f"{path} vanished while injector was creating it") from None
        _check_memory(fd, path, config)
        if config.file_owner is not None:
            _own_directory(fd, path, config.file_owner)
    except BaseException:
        with contextlib.suppress(OSError):
            os.rmdir(name, dir_fd=parent)
        if place.fd >= 0:
            os.close(place.fd)
        raise
    return place


def _own_directory(fd: int, path: str, owner: tuple[int, int]) -> None:
    try:
        os.fchown(fd, *owner)
    except OSError as exc:
        msg = f"cannot give {path} to INJECTOR_FILE_OWNER: {exc.strerror}"
        raise ConfigError(msg) from None


def _check_memory(fd: int, label: str, config: Config) -> None:
    if config.allow_disk:
        return
    kind = _filesystem_of(fd)
    if kind in MEMORY_FILESYSTEMS:
        return
    msg = (
        f"{label} is on {kind or 'an unknown file system'}, not tmpfs/ramfs: secret files "
        "would reach a disk (mount a tmpfs there, or set INJECTOR_ALLOW_DISK=true)"
    )
    raise ConfigError(msg)


def filesystem(path: str) -> str | None:
    """Return the file system type of *path* (following symlinks; for messages and tests)."""
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        return _filesystem_of(fd)
    finally:
        os.close(fd)


def _filesystem_of(fd: int) -> str | None:
    """Return the file system type of descriptor *fd* (fstatfs magic, else mountinfo)."""
    magic = _fstatfs_magic(fd)
    if magic == TMPFS_MAGIC:
        return "tmpfs"
    if magic == RAMFS_MAGIC:
        return "ramfs"
    try:
        return _mountinfo_type(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _fstatfs_magic(fd: int) -> int | None:
    import ctypes  # noqa: PLC0415 - only when files are delivered

    buffer = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.fstatfs(fd, buffer) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return ctypes.c_ulong.from_buffer(buffer).value & 0xFFFFFFFF


def _mountinfo_type(real: str) -> str | None:
    """Return the type of the longest mount point that contains the resolved path *real*."""
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


def _create(place: Place, name: str) -> int:
    try:
        return os.open(name, _CREATE, 0o600, dir_fd=place.fd)
    except OSError as exc:
        path = os.path.join(place.path, name)
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


def _sync(place: Place) -> None:
    try:
        os.fsync(place.fd)
    except OSError as exc:
        raise ConfigError(f"cannot sync {place.path}: {exc.strerror}") from None
