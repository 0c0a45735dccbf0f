"""Logging never shows a value: the redaction net and the Secret type."""

from __future__ import annotations

import json

import pytest

from injector import log
from injector.secret import Secret


def test_secret_repr_and_str_hide_value() -> None:
    """Secret's repr and str are stars, whatever it holds."""
    secret = Secret(b"hunter2")
    assert "hunter2" not in repr(secret)
    assert str(secret) == "***"


def test_redaction_catches_a_slipped_value(capsys: pytest.CaptureFixture[str]) -> None:
    """A registered value that slips into an event is replaced before output."""
    log.configure("debug", "json")
    log.register_secret(b"s3cr3t-value\nline-two")
    log.info("oops", detail="got s3cr3t-value and line-two", nested=["s3cr3t-value"])
    line = capsys.readouterr().err
    assert "s3cr3t" not in line
    assert "line-two" not in line
    assert json.loads(line)["detail"] == "got *** and ***"


def test_level_filter_skips_structlog(capsys: pytest.CaptureFixture[str]) -> None:
    """Events below the level are dropped without output."""
    log.configure("error", "json")
    log.info("quiet")
    assert capsys.readouterr().err == ""
