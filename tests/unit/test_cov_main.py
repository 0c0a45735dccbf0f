"""``injector.__main__`` only runs the CLI when executed, not when imported."""

from __future__ import annotations

import gc
import importlib
import sys

import pytest

from injector import cli


def test_importing_main_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing the module (not running it) never calls the CLI entry point."""
    called: list[bool] = []
    monkeypatch.setattr(cli, "entry", lambda: called.append(True))
    monkeypatch.delitem(sys.modules, "injector.__main__", raising=False)
    was_on = gc.isenabled()
    try:
        module = importlib.import_module("injector.__main__")
    finally:
        if was_on:  # the import turns the collector off: not for the rest of this session
            gc.enable()
    assert module.__name__ == "injector.__main__"
    assert called == []
