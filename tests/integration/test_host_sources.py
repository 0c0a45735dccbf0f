"""packaging/host-sources.sh: the build's package sources come from this machine's config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "host-sources.sh"
PIP = Path(sys.executable).with_name("pip")

pytestmark = pytest.mark.integration


def sources(*args: str, **env: str) -> str:
    """Run host-sources.sh with a clean environment plus *env*; its stdout, stripped."""
    full = {"PATH": "/usr/bin:/bin", "PIP": str(PIP), "PIP_CONFIG_FILE": os.devnull, **env}
    done = subprocess.run(
        [str(SCRIPT), *args], env=full, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def apt_etc(tmp_path: Path, sources_file: str = "", list_file: str = "") -> str:
    """Make a fake /etc/apt with one deb822 file and one sources.list; return its path."""
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d" / "a.sources").write_text(sources_file)
    (etc / "sources.list").write_text(list_file)
    return str(etc)


def test_pip_index_from_the_pip_configuration(tmp_path: Path) -> None:
    """index-url and extra-index-url come from pip's config; file: URLs are left out."""
    conf = tmp_path / "pip.conf"
    conf.write_text(
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url = file:///opt/local https://extra.example/simple\n"
    )
    assert sources("pip-index", PIP_CONFIG_FILE=str(conf)) == "https://mirror.example/simple"
    extra = sources("pip-extra-index", PIP_CONFIG_FILE=str(conf))
    assert extra == "https://extra.example/simple"


def test_pip_environment_wins_and_nothing_means_pips_default() -> None:
    """$PIP_INDEX_URL overrides the files; no setting at all prints nothing."""
    assert sources("pip-index", PIP_INDEX_URL="https://env.example/simple") == (
        "https://env.example/simple"
    )
    assert sources("pip-index") == ""
    assert sources("pip-index", PIP_INDEX_URL="file:///opt/pypi/simple") == ""


def test_debian_mirror_from_deb822(tmp_path: Path) -> None:
    """The first enabled stanza naming the suite (and the architecture) gives the mirror."""
    etc = apt_etc(
        tmp_path,
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb\nURIs: http://amd.example/debian\nSuites: bookworm\nArchitectures: amd64\n\n"
        "Types: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://main.example/debian\nSuites: bookworm bookworm-updates\n",
    )
    assert sources("debian-mirror", "bookworm", "arm64", INJECTOR_APT_ETC=etc) == (
        "http://main.example/debian"
    )
    assert sources("debian-mirror", "bookworm", "amd64", INJECTOR_APT_ETC=etc) == (
        "http://amd.example/debian"
    )
    assert sources("debian-mirror", "bookworm-security", INJECTOR_APT_ETC=etc) == (
        "http://sec.example/debian-security"
    )


def test_debian_mirror_from_a_one_line_list(tmp_path: Path) -> None:
    """A `deb [options] URI SUITE` line works too; an unknown suite prints nothing."""
    etc = apt_etc(
        tmp_path,
        list_file="# deb http://commented.example/debian bookworm main\n"
        "deb [signed-by=/k.gpg] http://list.example/debian bookworm main\n",
    )
    assert sources("debian-mirror", INJECTOR_APT_ETC=etc) == "http://list.example/debian"
    assert sources("debian-mirror", "trixie", INJECTOR_APT_ETC=etc) == ""


def test_no_address_is_written_in_packaging() -> None:
    """packaging/ names no package index or Debian mirror host: they come from the machine."""
    hosts = ("pypi.org", "pythonhosted.org", "deb.debian.org", "security.debian.org")
    for path in (ROOT / "packaging").rglob("*"):
        if path.is_file() and "staticx/src" not in str(path) and path.suffix != ".md":
            text = path.read_text(errors="replace")
            assert not [h for h in hosts if h in text], path
