"""Env-file parsing edges: comments inside unquoted values, text after a quote, long files."""

from __future__ import annotations

import pytest

from injector import envfile
from injector.deadline import Deadline
from injector.errors import BadDataError, UnavailableError


def test_hash_inside_an_unquoted_value_is_kept() -> None:
    """A '#' not preceded by a blank is part of the value; a blank one starts a comment."""
    pairs = envfile.parse(b"export A=x#y #comment\nexport B=c#d\n", reference="r")
    assert pairs == [("A", b"x#y"), ("B", b"c#d")]


def test_text_after_a_closing_quote_is_65() -> None:
    """Anything but a comment after a closing quote is a syntax error naming the line."""
    with pytest.raises(BadDataError, match="syntax error after a quoted value") as caught:
        envfile.parse(b'A="cov-v" trailing\n', reference="r")
    assert "cov-v" not in str(caught.value)


def test_quoted_value_then_comment() -> None:
    """A comment may follow a closing quote."""
    assert envfile.parse(b"A='v' # note\n", reference="r") == [("A", b"v")]


def test_deadline_checked_while_skipping_many_comment_lines() -> None:
    """A long run of comment lines still looks at the deadline, which may end the parse."""
    deadline = Deadline(0)
    with pytest.raises(UnavailableError):
        envfile.parse(b"# c\n" * 2048, reference="r", deadline=deadline)


def test_line_with_an_empty_name_is_65() -> None:
    """A line that has '=' but no name before it is a syntax error."""
    with pytest.raises(BadDataError, match="syntax error"):
        envfile.parse(b"=cov-v\n", reference="r")
