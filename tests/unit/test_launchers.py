"""The launchers' traces: variables dropped, LD_LIBRARY_PATH and TMPDIR restored, argv[0] kept."""

from __future__ import annotations

import sys

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
