"""The CLI's stderr writer drops what nobody can read any more, without raising."""

from __future__ import annotations

import os

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
