"""The launchers' traces: variables dropped, LD_LIBRARY_PATH and TMPDIR restored, argv[0] kept."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from injector import launchers


def test_launcher_variables_removed_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """When frozen, LD_LIBRARY_PATH and TMPDIR are restored and launcher variables dropped."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    environ = {
        "LD_LIBRARY_PATH": "/tmp/_MEI1",
        "LD_LIBRARY_PATH_ORIG": "/opt/lib",
        "_PYI_APPLICATION_HOME_DIR": "/tmp/_MEI1",
        "STATICX_BUNDLE_DIR": "/tmp/sx",
        "TMPDIR": "/dev/shm",
        launchers.TMPDIR_SAVED: "-",
        "KEEP": "1",
    }
    assert launchers.cleanup(environ) == {"LD_LIBRARY_PATH": "/opt/lib", "KEEP": "1"}


def test_tmpdir_restored_to_original_value() -> None:
    """The bootloader's saved TMPDIR ("=VALUE") is put back, even an empty one."""
    assert launchers.cleanup({"TMPDIR": "/dev", launchers.TMPDIR_SAVED: "=/scratch"}) == {
        "TMPDIR": "/scratch"
    }
    assert launchers.cleanup({"TMPDIR": "/dev", launchers.TMPDIR_SAVED: "="}) == {"TMPDIR": ""}


def test_launcher_ld_library_path_removed_without_orig(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without LD_LIBRARY_PATH_ORIG the launcher's LD_LIBRARY_PATH is removed entirely."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert launchers.cleanup({"LD_LIBRARY_PATH": "/tmp/_MEI1"}) == {}


def test_restore_cwd_enters_the_saved_directory_and_drops_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The working directory the bootloader handed over is entered and its variable removed."""
    monkeypatch.chdir("/")
    environ = {launchers.CWD_SAVED: str(tmp_path), "KEEP": "1"}
    launchers.restore_cwd(environ)
    assert Path.cwd() == tmp_path
    assert environ == {"KEEP": "1"}


def test_restore_cwd_without_variable_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the variable (not frozen, or cwd was "/") nothing changes."""
    monkeypatch.chdir("/")
    launchers.restore_cwd({})
    assert Path.cwd() == Path("/")


def test_restore_cwd_missing_directory_raises(tmp_path: Path) -> None:
    """A directory that vanished meanwhile is an error, never a silent stay in "/"."""
    with pytest.raises(FileNotFoundError):
        launchers.restore_cwd({launchers.CWD_SAVED: str(tmp_path / "gone")})


def test_saved_cwd_never_reaches_the_target() -> None:
    """The variable is one of the launchers' own and is dropped from the child's environment."""
    assert launchers.cleanup({launchers.CWD_SAVED: "/work", "KEEP": "1"}) == {"KEEP": "1"}
