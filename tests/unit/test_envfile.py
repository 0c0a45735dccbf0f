"""Env-file parsing: every dotenv form seed 001 uses, and no interpolation."""

from __future__ import annotations

import pytest

from injector.envfile import parse
from injector.errors import BadDataError


def _pairs(text: str) -> dict[str, bytes]:
    return dict(parse(text.encode(), reference="r"))


def test_seed_001_forms() -> None:
    """Single quotes, export and double quotes all give plain values."""
    text = "DB_USERNAME='root'\nexport DB_PASSWORD='orange1'\nDB_HOSTNAME=\"blah.amazon.com\"\n"
    assert _pairs(text) == {
        "DB_USERNAME": b"root",
        "DB_PASSWORD": b"orange1",
        "DB_HOSTNAME": b"blah.amazon.com",
    }


def test_no_interpolation_anywhere() -> None:
    """$VAR and ${VAR} stay literal in every quoting style."""
    text = "A=$HOME\nB='${HOME}'\nC=\"$HOME ${X:-y}\"\n"
    assert _pairs(text) == {"A": b"$HOME", "B": b"${HOME}", "C": b"$HOME ${X:-y}"}


def test_double_quote_escapes_and_multiline() -> None:
    """Double quotes decode backslash escapes; quoted values may span lines."""
    text = 'A="one\\ntwo \\"q\\""\nB="multi\nline"\nC=\'lit\\n\'\n'
    assert _pairs(text) == {"A": b'one\ntwo "q"', "B": b"multi\nline", "C": b"lit\\n"}


def test_comments_blank_lines_crlf_bom_and_equals() -> None:
    """Comments, blank lines, CRLF, a BOM and '=' inside values are handled."""
    text = "\ufeff# comment\r\n\r\nA=x=y # trailing\r\nB=é\r\n"
    assert _pairs(text) == {"A": b"x=y", "B": "é".encode()}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A='unterminated\n", "line 1"),
        ("GOOD=1\nthis is not a pair\n", "line 2"),
        ("LONELY\n", "no '='"),
    ],
)
def test_errors_name_the_line_not_the_text(text: str, message: str) -> None:
    """Syntax errors name the line number and never echo the line."""
    with pytest.raises(BadDataError, match=message) as caught:
        parse(text.encode(), reference="r")
    assert "unterminated" not in str(caught.value)
    assert "not a pair" not in str(caught.value)


def test_invalid_utf8() -> None:
    """Content that is not UTF-8 is bad data."""
    with pytest.raises(BadDataError, match="UTF-8"):
        parse(b"A=\xff\n", reference="r")
