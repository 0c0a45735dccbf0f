"""The child's environment: precedence, validation, and what is dropped."""

from __future__ import annotations

import pytest

from injector import sinks
from injector.errors import BadDataError
from injector.prepare import Prepared
from injector.secret import Secret


def _prepared(
    env: dict[str, bytes] | None = None,
    expanded: dict[str, bytes] | None = None,
    files: dict[str, bytes] | None = None,
    drop: frozenset[str] = frozenset(),
) -> Prepared:
    wrap = lambda d: {k: Secret(v) for k, v in (d or {}).items()}  # noqa: E731
    return Prepared(wrap(env), wrap(expanded), wrap(files), drop)


def test_explicit_wins_then_environment_then_expanded() -> None:
    """Explicit secrets override everything; existing variables beat env-file ones."""
    expanded = {"X": b"file", "HOME": b"/evil", "N": b"new"}
    prepared = _prepared(env={"X": b"explicit"}, expanded=expanded)
    env = sinks.child_environment({"HOME": "/root", "X": "ref+s3://b/k"}, prepared, pristine=False)
    assert env == {b"HOME": b"/root", b"X": b"explicit", b"N": b"new"}


def test_dropped_variables_are_gone() -> None:
    """References and control variables in the drop set never reach the child."""
    prepared = _prepared(env={"A": b"v"}, drop=frozenset({"A", "INJECTOR_TIMEOUT"}))
    environ = {"A": "ref+s3://b/k", "INJECTOR_TIMEOUT": "3", "KEEP": "1"}
    assert sinks.child_environment(environ, prepared, pristine=False) == {b"A": b"v", b"KEEP": b"1"}


def test_pristine_starts_empty() -> None:
    """Pristine mode gives the child only the secrets."""
    prepared = _prepared(env={"A": b"v"})
    assert sinks.child_environment({"HOME": "/root"}, prepared, pristine=True) == {b"A": b"v"}


def test_file_variables_hold_paths() -> None:
    """A *_FILE variable holds the path of its file, never the value."""
    prepared = _prepared(files={"KEY_FILE": b"secret"})
    env = sinks.child_environment({}, prepared, pristine=True, files={"KEY_FILE": "/run/s/KEY"})
    assert env == {b"KEY_FILE": b"/run/s/KEY"}


def test_nul_in_a_value_is_refused() -> None:
    """A NUL byte cannot be in an environment string."""
    with pytest.raises(BadDataError, match="A contains a NUL"):
        sinks.child_environment({}, _prepared(env={"A": b"x\x00y"}), pristine=True)


def test_oversized_value_is_refused() -> None:
    """A value above Linux's 128 KiB string limit is refused with a hint to use _FILE."""
    with pytest.raises(BadDataError, match="_FILE"):
        sinks.child_environment({}, _prepared(env={"A": b"x" * (129 * 1024)}), pristine=True)
