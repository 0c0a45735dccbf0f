"""Select one field of a JSON secret with an RFC 6901 pointer."""

from __future__ import annotations

import json

from injector.errors import BadDataError


def select(document: bytes, pointer: str, *, reference: str) -> bytes:
    """Return the field at *pointer* in *document*, rendered as text bytes.

    Strings are returned as they are, numbers and booleans as JSON text;
    objects, arrays, null and missing fields are errors naming the reference.
    """
    try:
        node: object = json.loads(document)
    except (ValueError, UnicodeDecodeError):
        raise BadDataError("the secret is not valid JSON", reference=reference) from None
    for step in _tokens(pointer, reference):
        node = _step(node, step, pointer, reference)
    return _render(node, pointer, reference)


def _tokens(pointer: str, reference: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise BadDataError("a JSON pointer must start with '/'", reference=reference)
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _step(node: object, step: str, pointer: str, reference: str) -> object:
    if isinstance(node, dict) and step in node:
        return node[step]
    if isinstance(node, list) and step.isdigit() and (step == "0" or step[0] != "0"):
        index = int(step)
        if index < len(node):
            return node[index]
    raise BadDataError(f"JSON pointer {pointer!r} matches nothing", reference=reference)


def _render(node: object, pointer: str, reference: str) -> bytes:
    if isinstance(node, str):
        return node.encode()
    if isinstance(node, bool | int | float):
        return json.dumps(node).encode()
    kind = "null" if node is None else type(node).__name__
    msg = f"JSON pointer {pointer!r} selects a {kind}, not a string, number or boolean"
    raise BadDataError(msg, reference=reference)
