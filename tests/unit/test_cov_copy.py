"""``injector copy DEST`` run in-process, with the launcher's program path set to a test file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from injector import launchers
from injector.commands import copy
from injector.config import Config
from injector.errors import ConfigError, UsageError

PAYLOAD = b"\x7fELF" + bytes(range(256)) * 64


@pytest.fixture
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give a file standing in for the outer static binary."""
    source = tmp_path / "built-injector"
    source.write_bytes(PAYLOAD)
    monkeypatch.setattr(launchers, "program_path", lambda _environ: str(source))
    return source


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if ".tmp-" in p.name]


def test_copy_to_a_file_path(program: Path, tmp_path: Path) -> None:
    """DEST naming a new file gets the exact bytes with mode 0755, and no temp file stays."""
    dest = tmp_path / "out" / "inj"
    dest.parent.mkdir()
    assert copy.main(Config(), {}, [str(dest)]) == 0
    assert dest.read_bytes() == PAYLOAD
    assert dest.stat().st_mode & 0o777 == 0o755
    assert _leftovers(dest.parent) == []


def test_copy_into_a_directory(program: Path, tmp_path: Path) -> None:
    """DEST naming a directory receives a file called injector."""
    dest = tmp_path / "bin"
    dest.mkdir()
    assert copy.main(Config(), {}, [str(dest)]) == 0
    assert (dest / "injector").read_bytes() == PAYLOAD
    assert _leftovers(dest) == []


def test_copy_replaces_an_existing_file(program: Path, tmp_path: Path) -> None:
    """An existing DEST file is replaced atomically by the new copy."""
    dest = tmp_path / "inj"
    dest.write_bytes(b"old")
    assert copy.main(Config(), {}, [str(dest)]) == 0
    assert dest.read_bytes() == PAYLOAD


def test_copy_into_missing_directory_is_78(program: Path, tmp_path: Path) -> None:
    """A DEST whose directory does not exist is 78 with a one-line message."""
    with pytest.raises(ConfigError) as caught:
        copy.main(Config(), {}, [str(tmp_path / "missing" / "inj")])
    assert caught.value.exit_code == 78
    assert str(caught.value).startswith("cannot copy to ")
    assert "\n" not in str(caught.value)


def test_failed_replace_leaves_no_temp_file(program: Path, tmp_path: Path) -> None:
    """When the final rename fails (DEST/injector is a full directory) no temp file is left."""
    dest = tmp_path / "bin"
    (dest / "injector" / "busy").mkdir(parents=True)
    with pytest.raises(ConfigError) as caught:
        copy.main(Config(), {}, [str(dest)])
    assert caught.value.exit_code == 78
    assert _leftovers(dest) == []
    assert (dest / "injector" / "busy").is_dir()


def test_copy_needs_exactly_one_dest(program: Path) -> None:
    """No DEST or two DESTs are a usage error (64)."""
    for args in ([], ["a", "b"]):
        with pytest.raises(UsageError) as caught:
            copy.main(Config(), {}, args)
        assert caught.value.exit_code == 64


def test_copy_unfrozen_is_78(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From python -m injector (no program path) copy refuses with 78 and writes nothing."""
    monkeypatch.delenv(launchers.PROGRAM_PATH, raising=False)
    with pytest.raises(ConfigError) as caught:
        copy.main(Config(), {}, [str(tmp_path / "inj")])
    assert caught.value.exit_code == 78
    assert "built binary" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_copy_through_the_cli_exit_codes(program: Path, tmp_path: Path) -> None:
    """From the command line: copy succeeds with 0, a bad DEST is 78, no DEST is 64."""
    from injector import cli

    assert cli.main(["injector", "copy", str(tmp_path / "inj")]) == 0
    assert (tmp_path / "inj").read_bytes() == PAYLOAD
    assert cli.main(["injector", "copy", str(tmp_path / "missing" / "inj")]) == 78
    assert cli.main(["injector", "copy"]) == 64
    assert _leftovers(tmp_path) == []
