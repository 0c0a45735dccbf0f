"""``INJECTOR_ENV_FROM``: references that yield many variables.

Each reference gives, only because it is listed here:

- an SSM path (``ref+awsssm://PATH/``): one variable per parameter below the path, named by
  the part of its name below the path, ``/`` as ``_``, upper-cased, every character outside
  ``[A-Z0-9_]`` as ``_`` (``/prod/app/db-password`` -> ``DB_PASSWORD``);
- a JSON object (any store; ``#/pointer`` picks a nested one): one variable per top-level key,
  named exactly as the key; strings as they are, numbers and booleans as their JSON text;
- dotenv, exactly as ``INJECTOR_ENV_FILES``.

A name that is not a valid variable name, a ``null``/array/object value, or content that is
neither a JSON object nor dotenv is bad data (65) naming the parameter, key or reference.
Precedence (prepare/sinks): the environment and explicit references win over these; two
expanded sources that yield one name are exit 65 naming both.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, NamedTuple

from injector import envfile, jsonpointer, log, references
from injector.errors import BadDataError
from injector.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Iterable

    from injector.deadline import Deadline
    from injector.references import Reference

ROW = "(env-from)"
PATH_STORE = references.PATH_SERVICE
VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OUTSIDE = re.compile(r"[^A-Z0-9_]")
_SHOWN = 64


class EnvFrom(NamedTuple):
    """One ``INJECTOR_ENV_FROM`` entry: what to fetch (no pointer) and the object to pick."""

    reference: Reference
    pointer: str | None = None


def plan(texts: Iterable[str]) -> tuple[EnvFrom, ...]:
    """Parse every entry; the pointer is applied here (it may select an object), not on fetch."""
    entries = []
    for text in texts:
        ref = references.parse(text, many=True)
        entries.append(EnvFrom(ref._replace(pointer=None), ref.pointer))
    return tuple(entries)


def variable_name(relative: str) -> str:
    """Map a parameter name below the path to a variable name (``db/user`` -> ``DB_USER``)."""
    return _OUTSIDE.sub("_", relative.replace("/", "_").upper())


def pairs(
    entry: EnvFrom, data: bytes, *, max_bytes: int, deadline: Deadline
) -> list[tuple[str, Secret]]:
    """Return the variables *entry*'s fetched *data* yields, in source order."""
    ref = str(entry.reference)
    if len(data) > max_bytes:
        msg = f"the value is {len(data)} bytes, above INJECTOR_MAX_SECRET_BYTES"
        raise BadDataError(msg, reference=ref)
    source = entry.reference.source
    if source.service == references.PATH_SERVICE and source.option("tree") != "true":
        found = _path(entry.reference, data)
    elif entry.pointer is not None or data.lstrip()[:1] == b"{":
        found = _object(entry, data)
    else:
        found = _dotenv(ref, data, deadline)
    for _, secret in found:
        log.register_secret(secret.reveal())
    return found


def _path(ref: Reference, data: bytes) -> list[tuple[str, Secret]]:
    carried = json.loads(data)  # written by backends/ssm_path.py: {name below path: value}
    found: dict[str, tuple[str, Secret]] = {}
    base = ref.source.name.rstrip("/")
    for relative, value in carried.items():
        name, parameter = variable_name(relative), f"{base}/{relative}"
        if not VALID_NAME.fullmatch(name):
            msg = f"parameter {parameter} maps to {name!r}, which is not a variable name"
            raise BadDataError(msg, reference=str(ref))
        if name in found:
            msg = f"parameters {found[name][0]} and {parameter} both map to {name}"
            raise BadDataError(msg, reference=str(ref))
        found[name] = (parameter, Secret(str(value).encode("utf-8", "surrogatepass")))
    return [(name, secret) for name, (_, secret) in found.items()]


def _object(entry: EnvFrom, data: bytes) -> list[tuple[str, Secret]]:
    ref = str(entry.reference)
    node = jsonpointer.node(data, entry.pointer, reference=ref)
    if not isinstance(node, dict):
        where = f"JSON pointer {entry.pointer!r} selects" if entry.pointer else "the value is"
        raise BadDataError(f"{where} not a JSON object", reference=ref)
    found = []
    for key, value in node.items():
        shown = repr(key[:_SHOWN])
        if not VALID_NAME.fullmatch(key):
            raise BadDataError(f"key {shown} is not a variable name", reference=ref)
        rendered = jsonpointer.render(value, what=f"key {shown} holds", reference=ref)
        found.append((key, Secret(rendered)))
    return found


def _dotenv(ref: str, data: bytes, deadline: Deadline) -> list[tuple[str, Secret]]:
    try:
        found = envfile.parse(data, reference=ref, deadline=deadline)
    except BadDataError as exc:
        msg = f"the value is neither a JSON object nor dotenv ({exc.message})"
        raise BadDataError(msg, reference=ref) from None
    return [(name, Secret(value)) for name, value in found]
