"""JSON pointers select one scalar field of a JSON secret."""

from __future__ import annotations

import pytest

from injector.errors import BadDataError
from injector.jsonpointer import select

DOC = b'{"a": {"b": "x=y"}, "n": 3, "t": true, "l": ["p", "q"], "s/t": "slash", "o": null}'


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [("/a/b", b"x=y"), ("/n", b"3"), ("/t", b"true"), ("/l/1", b"q"), ("/s~1t", b"slash")],
)
def test_selects_scalars(pointer: str, expected: bytes) -> None:
    """Strings come back as they are, numbers and booleans as JSON text."""
    assert select(DOC, pointer, reference="r") == expected


@pytest.mark.parametrize("pointer", ["/a", "/l", "/o"])
def test_rejects_non_scalars(pointer: str) -> None:
    """Objects, arrays and null are bad data."""
    with pytest.raises(BadDataError, match="selects a"):
        select(DOC, pointer, reference="r")


@pytest.mark.parametrize("pointer", ["/missing", "/l/2", "/l/01", "/a/b/c"])
def test_missing_field(pointer: str) -> None:
    """A pointer that matches nothing is bad data naming the pointer."""
    with pytest.raises(BadDataError, match="matches nothing"):
        select(DOC, pointer, reference="r")


def test_not_json_does_not_echo_content() -> None:
    """Invalid JSON is reported without any of the secret's text."""
    with pytest.raises(BadDataError) as caught:
        select(b"hunter2-not-json", "/a", reference="r")
    assert "hunter2" not in str(caught.value)
