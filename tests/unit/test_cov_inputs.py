"""User-named input: unreadable paths, a file swapped under injector, and odd stdins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from injector import inputs
from injector.deadline import Deadline
from injector.errors import ConfigError


def _read(path: str | None) -> bytes:
    return inputs.read(path, limit=1024, deadline=Deadline(30), label="--from-file")


def test_missing_file_is_78(tmp_path: Path) -> None:
    """A path that does not exist is 78 naming the input and the cause."""
    with pytest.raises(ConfigError) as caught:
        _read(str(tmp_path / "nope"))
    assert caught.value.exit_code == 78
    expected = f"cannot read --from-file {tmp_path}/nope: No such file or directory"
    assert str(caught.value) == expected


def test_unprintable_path_is_shown_quoted(tmp_path: Path) -> None:
    """A path with control characters is named by its repr, on one line."""
    with pytest.raises(ConfigError) as caught:
        _read(str(tmp_path / "a\nb"))
    assert "\n" not in str(caught.value)
    assert "'" in str(caught.value)


def test_file_swapped_for_a_fifo_after_stat_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path that looked regular but opens as a FIFO is refused on its descriptor (78)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    regular = tmp_path / "regular"
    regular.write_text("x")
    real_stat = os.stat
    monkeypatch.setattr(
        inputs.os, "stat", lambda p, *a, **k: real_stat(regular if p == str(fifo) else p, *a, **k)
    )
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(ConfigError) as caught:
        _read(str(fifo))
    assert "is a FIFO, not a regular file" in str(caught.value)
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.fixture
def stdin_fd() -> Iterator[list[int]]:
    """Point injector's stdin at descriptors the test opens (closed afterwards)."""
    opened: list[int] = []
    yield opened
    for fd in opened:
        os.close(fd)


def test_stdin_from_a_directory_is_78(
    stdin_fd: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stdin redirected from a directory fails to read: 78 with the cause."""
    stdin_fd.append(os.open(tmp_path, os.O_RDONLY))
    monkeypatch.setattr(inputs, "STDIN", stdin_fd[0])
    with pytest.raises(ConfigError) as caught:
        _read("-")
    assert str(caught.value) == "cannot read stdin: Is a directory"


def test_stdin_would_block_is_polled_again(
    stdin_fd: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that would block (non-blocking stdin) waits again and then reads everything."""
    read_end, write_end = os.pipe()
    stdin_fd.append(read_end)
    os.write(write_end, b"abc")
    os.close(write_end)
    monkeypatch.setattr(inputs, "STDIN", read_end)
    real_read = os.read
    calls: list[int] = []

    def once_blocking(fd: int, size: int) -> bytes:
        calls.append(fd)
        if len(calls) == 1:
            raise BlockingIOError
        return real_read(fd, size)

    monkeypatch.setattr(inputs.os, "read", once_blocking)
    assert _read(None) == b"abc"
    assert len(calls) == 3
