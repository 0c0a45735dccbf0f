"""Finding the target before anything is fetched: 126 and 127."""

from __future__ import annotations

from pathlib import Path

import pytest

from injector.errors import TargetNotExecutableError, TargetNotFoundError
from injector.execute import locate


def _script(path: Path, mode: int) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(mode)
    return path


def test_path_lookup_finds_first_executable(tmp_path: Path) -> None:
    """PATH is searched in order, skipping directories without the command."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    target = _script(tmp_path / "b" / "prog", 0o755)
    assert locate("prog", f"{tmp_path / 'a'}:{tmp_path / 'b'}") == str(target)


def test_not_found_is_127(tmp_path: Path) -> None:
    """A command found nowhere is 127."""
    with pytest.raises(TargetNotFoundError) as caught:
        locate("nope", str(tmp_path))
    assert caught.value.exit_code == 127


def test_not_executable_is_126(tmp_path: Path) -> None:
    """A command found only without the execute bit is 126."""
    _script(tmp_path / "prog", 0o644)
    with pytest.raises(TargetNotExecutableError):
        locate("prog", str(tmp_path))


def test_directory_is_126(tmp_path: Path) -> None:
    """A directory given as the command is 126."""
    with pytest.raises(TargetNotExecutableError) as caught:
        locate(str(tmp_path), None)
    assert caught.value.exit_code == 126


def test_explicit_path_missing_is_127(tmp_path: Path) -> None:
    """A slash in the command skips PATH, and a missing file is 127."""
    with pytest.raises(TargetNotFoundError):
        locate(str(tmp_path / "missing"), "/bin")
