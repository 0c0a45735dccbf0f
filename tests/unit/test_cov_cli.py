"""The CLI's stderr writer drops what nobody can read any more, without raising."""

from __future__ import annotations

import os

import pytest

from injector import cli


def test_stderr_with_its_reader_gone_drops_writes() -> None:
    """A write to a stderr whose reader went away is dropped, never raised, as are later ones."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = cli._Output(write_end, closed=False)
        assert out.write(b"first") == 5
        assert out.problem == "cannot write to stdout: the reader went away"
        assert out.write(b"second") == 6
    finally:
        os.close(write_end)


def test_closed_stderr_drops_writes() -> None:
    """A stderr the caller closed swallows every write."""
    out = cli._Output(2, closed=True)
    assert out.write(b"nobody") == 6
    assert out.dropping


def test_unexpected_exception_is_70_without_locals(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug inside injector is reported as internal_error, exit 70, without local values."""

    def broken(_argv: object, _environ: object) -> int:
        hidden = "cov-local-value"
        raise RuntimeError(len(hidden))

    monkeypatch.setattr(cli, "_main", broken)
    assert cli.main(["injector", "version"]) == 70
    err = capsys.readouterr().err
    assert "internal_error" in err
    assert "cov-local-value" not in err


def test_command_help_flag_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """A command given --help prints the help and exits 0 without running the command."""
    assert cli.main(["injector", "copy", "--help"]) == 0
    assert capsys.readouterr().out
