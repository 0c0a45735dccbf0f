"""``--known-from FILE``: the organisation's own secret values, fetched and kept in memory only.

FILE holds ``NAME=reference`` lines (dotenv syntax, the references injector resolves at run
time). They are planned with ``plan.build`` and fetched with ``prepare.prepare``, the same
step exec and ``injector check`` take; each value is then expanded into the encodings it may be
baked in as (raw, base64 at every alignment, URL-encoded, JSON-escaped, hex) and handed to the
detector's one automaton. Hits name the reference, never the value.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from typing import TYPE_CHECKING, NamedTuple

from injector import envfile, inputs, plan
from injector.deadline import Deadline
from injector.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from injector.config import Config

MIN_LENGTH = 6  # shorter values would match everywhere


class Known(NamedTuple):
    """One encoding of one known value, as the detector searches for it (latin-1 text)."""

    text: str
    reference: str
    encoding: str


def load(path: str, config: Config) -> list[Known]:
    """Read FILE, fetch every reference through ``prepare``, and return the encodings to find.

    ``prepare`` is the one preparation step exec and check use: the same plan, credentials,
    batching, deadline and validation; its first failure stops the scan (fail closed).
    """
    from injector.prepare import prepare  # noqa: PLC0415 - imports botocore lazily

    deadline = Deadline(config.timeout)
    environ = _read(path, config, deadline)
    the_plan = plan.build(environ, config)
    if not the_plan:
        raise ConfigError(f"--known-from {path} names no reference")
    prepared = prepare(the_plan, config, deadline)
    values = {**prepared.env, **prepared.expanded, **prepared.files}
    by_variable = {d.variable: str(d.reference) for d in the_plan.deliveries}
    patterns: list[Known] = []
    for variable, secret in values.items():
        if len(secret) >= MIN_LENGTH:
            reference = by_variable.get(variable.removesuffix("_FILE"), by_variable.get(variable))
            patterns.extend(expand(secret.reveal(), reference or f"{variable} (env-file)"))
    return patterns


def _read(path: str, config: Config, deadline: Deadline) -> dict[str, str]:
    data = inputs.read(path, limit=config.max_secret_bytes, deadline=deadline, label="--known-from")
    pairs = envfile.parse(data, reference=path, deadline=deadline)
    return {name: value.decode("utf-8", "replace") for name, value in pairs}


def expand(value: bytes, reference: str) -> list[Known]:
    """Return every encoding of *value* worth searching for, each once."""
    seen: dict[str, str] = {}
    for encoding, text in _encodings(value):
        if len(text) >= MIN_LENGTH:
            seen.setdefault(text, encoding)
    return [Known(text, reference, encoding) for text, encoding in seen.items()]


def _encodings(value: bytes) -> Iterator[tuple[str, str]]:
    yield "raw", value.decode("latin-1")
    stripped = value.strip()
    if stripped != value:
        yield "raw", stripped.decode("latin-1")
    yield from _base64(value)
    text = value.decode("utf-8", "replace")
    yield "url-encoded", urllib.parse.quote(text, safe="")
    yield "url-encoded", urllib.parse.quote_plus(text, safe="")
    yield "json-escaped", json.dumps(text)[1:-1]
    yield "hex", binascii.hexlify(value).decode()
    yield "hex", binascii.hexlify(value).decode().upper()


def _base64(value: bytes) -> Iterator[tuple[str, str]]:
    """Base64 at the three alignments a value can have inside a longer encoded blob.

    Only the characters that depend on the value's bytes alone are kept, so each core is
    a substring of any base64 text that contains the value, whatever surrounds it.
    """
    size = len(value)
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value).decode().rstrip("=")
        inside = [
            c
            for c in range(len(encoded))
            if (6 * c) // 8 >= shift and (6 * c + 5) // 8 < shift + size
        ]
        if not inside:
            continue
        core = encoded[inside[0] : inside[-1] + 1]
        yield "base64", core
        yield "base64url", core.replace("+", "-").replace("/", "_")
