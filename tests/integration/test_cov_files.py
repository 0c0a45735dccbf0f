"""Secret files on a real tmpfs: every refusal of the secrets directory, and every cleanup."""

from __future__ import annotations

import builtins
import ctypes
import errno
import io
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from injector import files
from injector.config import Config
from injector.errors import ConfigError
from injector.secret import Secret

SECRET = {"TOKEN_FILE": Secret(b"cov-files-value")}


@pytest.fixture
def shm() -> Iterator[Path]:
    """Give a fresh directory under /dev/shm (mode 0700), removed afterwards."""
    path = Path("/dev/shm") / f"injector-cov-{uuid.uuid4().hex}"
    path.mkdir(mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _refused(config: Config, contents: dict[str, Secret] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        files.deliver(SECRET if contents is None else contents, config)
    assert caught.value.exit_code == 78
    message = str(caught.value)
    assert "\n" not in message
    assert "cov-files-value" not in message
    return message


def test_nothing_to_deliver_touches_nothing() -> None:
    """No *_FILE secrets: no directory is chosen and nothing is removed later."""
    written = files.deliver({}, Config(secrets_dir="/nonexistent/never"))
    assert written.directory is None
    assert written.paths == {}
    written.remove()


def test_preflight_accepts_an_empty_existing_directory(shm: Path) -> None:
    """Preflight opens and checks an existing directory, and leaves it as it was."""
    files.preflight(Config(secrets_dir=str(shm)))
    assert os.listdir(shm) == []


def test_preflight_of_a_directory_still_to_be_made_creates_nothing(shm: Path) -> None:
    """Preflight of a missing INJECTOR_SECRETS_DIR checks its parent and makes nothing."""
    files.preflight(Config(secrets_dir=str(shm / "later")))
    assert os.listdir(shm) == []


def test_run_secrets_used_when_acceptable(shm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without INJECTOR_SECRETS_DIR, an acceptable /run/secrets (files allowed) is used."""
    run_secrets = shm / "run-secrets"
    run_secrets.mkdir(mode=0o700)
    (run_secrets / "other").write_text("x")
    monkeypatch.setattr(files, "RUN_SECRETS", str(run_secrets))
    written = files.deliver(SECRET, Config())
    try:
        assert written.paths == {"TOKEN_FILE": str(run_secrets / "TOKEN")}
        assert not written.created_directory
        assert (run_secrets / "TOKEN").read_bytes() == b"cov-files-value"
    finally:
        written.remove()
    assert sorted(os.listdir(run_secrets)) == ["other"]


def test_private_directory_needs_a_memory_shm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If /dev/shm is not a tmpfs, the private fallback is refused (78) and nothing is made."""
    if files.filesystem(str(tmp_path)) in files.MEMORY_FILESYSTEMS:
        pytest.skip("the test's tmp_path is itself a tmpfs here")
    monkeypatch.setattr(files, "RUN_SECRETS", str(tmp_path / "absent"))
    monkeypatch.setattr(files, "SHM", str(tmp_path))
    assert "not tmpfs/ramfs" in _refused(Config())
    assert os.listdir(tmp_path) == []


def test_private_directory_gives_up_after_its_tries(
    shm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every private name is taken, delivery fails with 78 instead of reusing one."""
    monkeypatch.setattr(files, "RUN_SECRETS", str(shm / "absent"))
    monkeypatch.setattr(files, "SHM", str(shm))
    monkeypatch.setattr(files.os, "urandom", lambda n: b"\0" * n)
    (shm / ("injector-" + "00" * 6)).mkdir()
    assert "cannot create a private directory" in _refused(Config())


def test_private_directory_made_and_removed(shm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The private fallback is created mode 0700 and removed again with the files."""
    monkeypatch.setattr(files, "RUN_SECRETS", str(shm / "absent"))
    monkeypatch.setattr(files, "SHM", str(shm))
    files.preflight(Config())
    written = files.deliver(SECRET, Config())
    assert written.created_directory
    assert written.directory is not None
    assert stat.S_IMODE(os.stat(written.directory).st_mode) == 0o700
    written.remove()
    assert os.listdir(shm) == []


def test_root_directory_refused() -> None:
    """INJECTOR_SECRETS_DIR=/ is refused, never written into."""
    assert "cannot be the root directory" in _refused(Config(secrets_dir="/"))


def test_missing_parent_refused(shm: Path) -> None:
    """A secrets directory whose parent does not exist is 78 naming the missing component."""
    message = _refused(Config(secrets_dir=str(shm / "a" / "b")))
    assert f"{shm}/a does not exist" in message


def test_unopenable_name_refused(shm: Path) -> None:
    """A name the kernel cannot open (too long) is 78 with the cause."""
    assert "cannot open" in _refused(Config(secrets_dir=str(shm / ("n" * 300))))


def test_directory_appearing_during_creation_refused(
    shm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory someone else creates between the check and mkdir is refused, not used."""
    real = os.mkdir

    def racing(name: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real(name, 0o700, dir_fd=dir_fd)  # the other process wins the race
        real(name, mode, dir_fd=dir_fd)

    monkeypatch.setattr(files.os, "mkdir", racing)
    assert "appeared while injector was creating it" in _refused(Config(secrets_dir=str(shm / "d")))


def test_directory_vanishing_during_creation_refused(
    shm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory removed right after injector made it is refused, and nothing stays."""
    real_mkdir, real_rmdir = os.mkdir, os.rmdir

    def vanishing(name: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real_mkdir(name, mode, dir_fd=dir_fd)
        real_rmdir(name, dir_fd=dir_fd)

    monkeypatch.setattr(files.os, "mkdir", vanishing)
    assert "vanished" in _refused(Config(secrets_dir=str(shm / "d")))
    assert os.listdir(shm) == []


def test_mkdir_failure_refused(shm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory that cannot be created (no space) is 78 with the cause."""

    def full(name: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "mkdir", full)
    assert "No space left on device" in _refused(Config(secrets_dir=str(shm / "d")))


def test_directory_owner_failure_removes_the_directory(
    shm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the new directory cannot be given to INJECTOR_FILE_OWNER, it is removed again."""

    def denied(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(files.os, "fchown", denied)
    config = Config(secrets_dir=str(shm / "d"), file_owner=(4243, 4243))
    assert "INJECTOR_FILE_OWNER" in _refused(config)
    assert os.listdir(shm) == []


def test_component_not_a_directory_when_stat_fails(
    shm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-directory component whose lstat fails is still refused as not a directory."""
    (shm / "plain").write_text("x")
    real = os.stat

    def failing(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if kwargs.get("follow_symlinks") is False:
            raise PermissionError(errno.EACCES, "denied")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os, "stat", failing)
    assert "is not a directory" in _refused(Config(secrets_dir=str(shm / "plain" / "d")))


def test_directory_sync_failure_removes_the_files(
    shm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the directory cannot be synced, every file written is removed and it is 78."""
    real = os.fsync

    def failing(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(fd)

    monkeypatch.setattr(files.os, "fsync", failing)
    assert "cannot sync" in _refused(Config(secrets_dir=str(shm)))
    assert os.listdir(shm) == []


def test_filesystem_of_a_bad_descriptor_is_unknown() -> None:
    """Neither fstatfs nor /proc can name the file system of a closed descriptor."""
    assert files._filesystem_of(-1) is None


def test_filesystem_without_a_usable_libc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fstatfs (no libc), the type still comes from mountinfo."""

    def no_libc(*_args: object, **_kwargs: object) -> None:
        raise OSError("no libc")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert files.filesystem("/dev/shm") == "tmpfs"


def test_ramfs_magic_is_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ramfs magic number counts as a memory file system."""
    monkeypatch.setattr(files, "_fstatfs_magic", lambda _fd: files.RAMFS_MAGIC)
    assert files.filesystem("/") == "ramfs"


def test_mountinfo_unreadable_or_odd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mountinfo lines without a separator are skipped; an unreadable mountinfo is unknown."""
    real = builtins.open
    content = ["garbage line\n", "1 2 0:1 / / rw - tmpfs none rw\n"]

    def fake(path: object, *args: object, **kwargs: object) -> object:
        if path == "/proc/self/mountinfo":
            if not content:
                raise PermissionError(errno.EACCES, "denied")
            return io.StringIO("".join(content))
        return real(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", fake)
    assert files._mountinfo_type("/anything") == "tmpfs"
    content.clear()
    assert files._mountinfo_type("/anything") is None


def test_exec_failure_removes_the_delivered_files(shm: Path) -> None:
    """When the target cannot be exec'd after the files were written, they are removed (127)."""
    import signal

    from injector import run
    from injector.errors import TargetNotFoundError
    from injector.execute import RESET_SIGNALS
    from injector.prepare import Prepared

    prepared = Prepared({}, {}, dict(SECRET), frozenset())
    saved = {name: signal.getsignal(getattr(signal, name)) for name in RESET_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    try:
        with pytest.raises(TargetNotFoundError) as caught:
            run.deliver(prepared, {}, Config(secrets_dir=str(shm)), ["gone"], str(shm / "gone"))
    finally:  # SIGPIPE left at its default would kill this worker on the next broken pipe
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    assert caught.value.exit_code == 127
    assert os.listdir(shm) == []
