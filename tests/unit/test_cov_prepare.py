"""Preparation edges: an optional env-file that is missing, ARG_MAX without sysconf, validate."""

from __future__ import annotations

import os

import pytest

from injector import plan, prepare
from injector.config import Config
from injector.deadline import Deadline
from injector.errors import BadDataError
from injector.references import Reference
from injector.secret import Secret


def _answer(monkeypatch: pytest.MonkeyPatch, by_text: dict[str, bytes | None]) -> None:
    def resolve_each(
        refs: list[Reference], _deadline: Deadline, _workers: int, **_: object
    ) -> dict:
        return {
            ref: None if (value := by_text[ref.text]) is None else Secret(value) for ref in refs
        }

    monkeypatch.setattr("injector.resolve.resolve_each", resolve_each)


def _prepare(env_files: tuple[str, ...]) -> prepare.Prepared:
    config = Config(env_files=env_files)
    return prepare.prepare(plan.build({}, config), config, Deadline(5), collect=True)


def test_optional_missing_env_file_is_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """An optional env-file the store does not have adds no variable and reports its row."""
    _answer(monkeypatch, {"ref+s3://b/e?optional=true": None})
    prepared = _prepare(("ref+s3://b/e?optional=true",))
    assert prepared.expanded == {}
    assert [row.status for row in prepared.rows] == ["missing (optional)"]
    assert prepared.exit_code == 0


def test_env_file_above_arg_max_without_sysconf_is_65(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without sysconf the 2 MiB fallback still refuses an env-file execve could not take."""

    def no_sysconf(_name: str) -> int:
        raise ValueError("unknown")

    monkeypatch.setattr(os, "sysconf", no_sysconf)
    value = b"v" * (100 * 1024)
    document = b"".join(b"K%d=%s\n" % (i, value) for i in range(24))
    _answer(monkeypatch, {"ref+s3://b/big": document})
    prepared = _prepare(("ref+s3://b/big",))
    assert prepared.exit_code == BadDataError.exit_code
    error = prepared.rows[-1].error or ""
    assert error.endswith("above ARG_MAX")
    assert "vvvv" not in error


def test_validate_without_files_returns_it_unchanged() -> None:
    """A Prepared built elsewhere with only variables passes validation as it is."""
    given = prepare.Prepared({"A": Secret(b"cov-1")}, {"B": Secret(b"cov-2")}, {}, frozenset())
    assert prepare.validate(given) is given
