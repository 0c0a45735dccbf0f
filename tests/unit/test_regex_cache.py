"""The build's precompiled regular expressions are exactly what ``re`` compiles, or unused."""

from __future__ import annotations

import _sre
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from injector.backends import boto
from tests.support.modules import load_file

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    """Run packaging/regex_cache.py in a fresh interpreter and load what it wrote."""
    out = tmp_path_factory.mktemp("regexes") / "regexes_under_test.py"
    subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "regex_cache.py"), str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return load_file("regexes_under_test", out)


@pytest.fixture
def clean_cache() -> Iterator[None]:
    """Run with an empty ``re`` cache and put the old one back afterwards."""
    saved = dict(re._cache)  # type: ignore[attr-defined]
    re.purge()
    yield
    re.purge()
    re._cache.update(saved)  # type: ignore[attr-defined]


def test_every_program_is_what_re_compiles(generated: types.ModuleType) -> None:
    """Each entry makes a Pattern equal to a fresh compile: same program, flags and pattern."""
    assert len(generated.ENTRIES) > 50
    for pattern, flags, final, code, groups, groupindex, indexgroup in generated.ENTRIES:
        primed = _sre.compile(pattern, final, list(code), groups, groupindex, indexgroup)
        fresh = re._compiler.compile(pattern, flags)  # type: ignore[attr-defined]
        assert primed == fresh, pattern
        assert (primed.groups, primed.groupindex) == (fresh.groups, fresh.groupindex), pattern


def test_the_large_patterns_are_covered(generated: types.ModuleType) -> None:
    """urllib3's host/port pattern and botocore's IPv6 pattern, the costliest, are in it."""
    import botocore.utils
    import urllib3.util.url

    patterns = {entry[0] for entry in generated.ENTRIES}
    assert urllib3.util.url._HOST_PORT_RE.pattern in patterns
    assert botocore.utils.IPV6_ADDRZ_RE.pattern in patterns


def test_priming_feeds_re_compile(
    generated: types.ModuleType, clean_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After priming, re.compile hands out the primed Pattern itself."""
    monkeypatch.setitem(sys.modules, "regexes_under_test", generated)
    assert boto.prime_regex_cache("regexes_under_test") == len(generated.ENTRIES)
    pattern, flags, *_ = generated.ENTRIES[-1]
    cached = re._cache[type(pattern), pattern, flags]  # type: ignore[attr-defined]
    assert re.compile(pattern, flags) is cached


def test_another_interpreter_primes_nothing(
    generated: types.ModuleType, clean_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module made by a different interpreter or regex engine is ignored."""
    other = types.ModuleType("regexes_other")
    other.KEY = ("2.7.18", _sre.MAGIC, _sre.CODESIZE)  # type: ignore[attr-defined]
    other.ENTRIES = generated.ENTRIES  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "regexes_other", other)
    assert boto.prime_regex_cache("regexes_other") == 0
    assert boto.prime_regex_cache("no_such_module_here") == 0
    assert not re._cache  # type: ignore[attr-defined]
