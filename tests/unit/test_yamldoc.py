"""YAML documents under a JSON pointer, read as vals (YAML 1.2) reads them."""

from __future__ import annotations

import pytest

from injector import jsonpointer
from injector.errors import BadDataError

DOC = b"""\
db:
  user: app
  port: 5432
  ratio: 1.50
  on: yes
  debug: True
  quoted: "true"
  none: ~
  list: [a, b]
"""


@pytest.mark.parametrize(("pointer", "value"), [
    ("/db/user", b"app"), ("/db/port", b"5432"), ("/db/ratio", b"1.50"), ("/db/on", b"yes"),
    ("/db/debug", b"true"), ("/db/quoted", b"true"), ("/db/list/1", b"b"),
])
def test_yaml_scalars_as_written(pointer: str, value: bytes) -> None:
    """Numbers as written, only true/false are booleans (YAML 1.2), quoted text is text."""
    assert jsonpointer.select(DOC, pointer, reference="r") == value


@pytest.mark.parametrize(("document", "pointer", "message"), [
    (DOC, "/db/none", "null"),
    (b"a: [unclosed", "/a", "neither JSON nor YAML"),
])
def test_yaml_refusals(document: bytes, pointer: str, message: str) -> None:
    """Null selected, broken YAML: bad data whose message shows no part of the document."""
    with pytest.raises(BadDataError, match=message) as caught:
        jsonpointer.select(document, pointer, reference="r")
    assert "unclosed" not in caught.value.message


def test_alias_bomb_is_bounded() -> None:
    """Aliases that multiply nodes stop at the node budget instead of eating memory."""
    lines = [b"a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [b"a%d: &a%d [%s]" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 9)]
    with pytest.raises(BadDataError, match="nodes"):
        jsonpointer.select(b"\n".join(lines), "/a8/0", reference="r")


def test_json_stays_json() -> None:
    """A JSON document is read as JSON (its numbers exactly as stored)."""
    assert jsonpointer.select(b'{"n": 1e3}', "/n", reference="r") == b"1e3"
