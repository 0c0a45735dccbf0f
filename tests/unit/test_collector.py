"""The cyclic garbage collector: off for a start, back on for the commands that run long."""

from __future__ import annotations

import gc
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from injector import cli, hardening

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def collector_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Start with the collector off, as injector/__main__.py leaves it; restore it after."""
    monkeypatch.setattr(hardening, "protect", lambda: True)  # not this test process
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def test_entry_module_turns_the_collector_off() -> None:
    """Importing the entry module (python -m injector, the frozen binary) disables it."""
    code = "import gc, injector.__main__; print(gc.isenabled())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


@pytest.mark.usefixtures("collector_off")
@pytest.mark.parametrize("command", sorted(cli.LONG_RUNNING))
def test_long_running_commands_turn_it_back_on(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scan or a host agent may run for hours: cyclic garbage is collected again."""
    assert cli.main(["injector", command, "--help"]) == 0
    assert gc.isenabled()
    assert "usage" in capsys.readouterr().out


@pytest.mark.usefixtures("collector_off")
@pytest.mark.parametrize("command", ["check", "put", "encrypt", "copy"])
def test_short_commands_leave_it_off(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The commands that end after one fetch or one write keep it off, like exec."""
    assert cli.main(["injector", command, "--help"]) == 0
    assert not gc.isenabled()
    assert "usage" in capsys.readouterr().out
