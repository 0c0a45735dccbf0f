"""The launchers' program path and the locale-coercion undo, in every case."""

from __future__ import annotations

import builtins
import sys

import pytest

from injector import launchers


def test_program_path_from_the_bootloader_variable() -> None:
    """The outer binary's path saved by the bootloader is the program path."""
    assert launchers.program_path({launchers.PROGRAM_PATH: "/usr/bin/injector"}) == (
        "/usr/bin/injector"
    )


def test_program_path_frozen_without_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frozen without the bootloader's variable, the program path is sys.executable."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert launchers.program_path({launchers.PROGRAM_PATH: ""}) == sys.executable


def test_program_path_unfrozen_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running from source there is no program path to copy."""
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert launchers.program_path({}) is None


def test_invoked_name_prefers_the_saved_argv0() -> None:
    """The bootloader's saved argv[0] wins over the extracted program's name; none is ""."""
    assert launchers.invoked_name(["/tmp/x"], {launchers.ARGV0_SAVED: "injector"}) == "injector"
    assert launchers.invoked_name([], {}) == ""


def test_coerced_locale_removed_when_the_kernel_block_lacks_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A coerced LC_CTYPE absent from /proc/self/environ was Python's, and is dropped."""
    monkeypatch.setattr(launchers, "_kernel_names", lambda: frozenset({b"PATH"}))
    assert launchers.cleanup({"LC_CTYPE": "C.UTF-8", "PATH": "/bin"}) == {"PATH": "/bin"}


def test_coerced_locale_kept_when_the_caller_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """An LC_CTYPE the caller passed (present in the kernel's block) is kept."""
    monkeypatch.setattr(launchers, "_kernel_names", lambda: frozenset({b"LC_CTYPE"}))
    assert launchers.cleanup({"LC_CTYPE": "C.UTF-8"}) == {"LC_CTYPE": "C.UTF-8"}


def test_coerced_locale_kept_without_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without /proc (unreadable environ block) LC_CTYPE is left alone."""
    real_open = builtins.open

    def refuse(path: object, *args: object, **kwargs: object) -> object:
        if path == "/proc/self/environ":
            raise PermissionError(13, "denied")
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", refuse)
    assert launchers.cleanup({"LC_CTYPE": "C.utf8"}) == {"LC_CTYPE": "C.utf8"}


def test_other_locale_values_untouched() -> None:
    """An LC_CTYPE Python would not have coerced to is never questioned."""
    assert launchers.cleanup({"LC_CTYPE": "de_DE.UTF-8"}) == {"LC_CTYPE": "de_DE.UTF-8"}
