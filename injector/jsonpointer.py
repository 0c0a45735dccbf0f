"""Select one field of a JSON secret with an RFC 6901 pointer.

Numbers are delivered as the text stored (``1e3`` stays ``1e3``); ``NaN`` and ``Infinity``
are not JSON; a document nested too deeply, or a string holding a lone surrogate, is bad
data with a message that never shows any part of the document.
"""

from __future__ import annotations

import json

from injector.errors import BadDataError


class _Number(str):
    """A JSON number kept as the text it was stored as."""

    __slots__ = ()


_JSON_STARTS = frozenset({b"{", b"[", b'"'})


def _no_constant(_name: str) -> object:
    raise ValueError


def loads(document: bytes, *, reference: str) -> object:
    """Parse *document* strictly; raise BadDataError naming *reference* otherwise."""
    try:
        return json.loads(
            document, parse_float=_Number, parse_int=_Number, parse_constant=_no_constant
        )
    except RecursionError:
        raise BadDataError("the secret's JSON is nested too deeply", reference=reference) from None
    except (ValueError, UnicodeDecodeError):
        if document.lstrip()[:1] in _JSON_STARTS:  # JSON-shaped: strict JSON only
            raise BadDataError("the secret is not valid JSON", reference=reference) from None
    from injector import yamldoc  # noqa: PLC0415 - vals reads YAML too; only when not JSON

    return yamldoc.loads(document, reference=reference)


def select(document: bytes, pointer: str, *, reference: str) -> bytes:
    """Return the field at *pointer* in *document*, rendered as text bytes.

    Strings are returned as they are, numbers as stored and booleans as JSON text;
    objects, arrays, null and missing fields are errors naming the reference.
    """
    node = loads(document, reference=reference)
    for step in _tokens(pointer, reference):
        node = _step(node, step, pointer, reference)
    return render(node, what=f"JSON pointer {pointer!r} selects", reference=reference)


def _tokens(pointer: str, reference: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise BadDataError("a JSON pointer must start with '/'", reference=reference)
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _step(node: object, step: str, pointer: str, reference: str) -> object:
    if isinstance(node, dict) and step in node:
        return node[step]
    canonical = step.isascii() and step.isdigit() and (step == "0" or step[0] != "0")
    if isinstance(node, list) and canonical and int(step) < len(node):
        return node[int(step)]
    raise BadDataError(f"JSON pointer {pointer!r} matches nothing", reference=reference)


def render(node: object, *, what: str, reference: str) -> bytes:
    """Render a scalar as delivered text: strings as they are, numbers as stored."""
    if isinstance(node, _Number) or type(node).__name__ == "Number":  # JSON's or YAML's
        return str.__str__(node).encode("utf-8")
    if isinstance(node, str):
        try:
            return node.encode("utf-8")
        except UnicodeEncodeError:
            msg = f"{what} a string that is not valid Unicode (a lone surrogate)"
            raise BadDataError(msg, reference=reference) from None
    if isinstance(node, bool):
        return b"true" if node else b"false"
    kind = "null" if node is None else "an object" if isinstance(node, dict) else "an array"
    msg = f"{what} {'a ' if node is None else ''}{kind}, not a string, number or boolean"
    raise BadDataError(msg, reference=reference)


def node(document: bytes, pointer: str | None, *, reference: str) -> object:
    """Return the parsed value at *pointer* in *document* (the whole document for None)."""
    found = loads(document, reference=reference)
    for step in _tokens(pointer or "", reference):
        found = _step(found, step, pointer or "", reference)
    return found
