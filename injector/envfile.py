r"""Parse dotenv content (seed 001's env-files) with python-dotenv's parser, never interpolating.

Accepted: ``KEY=value``, ``export KEY=value``, single quotes (literal), double quotes
(escapes such as ``\n`` and ``\"`` decoded), ``#`` comments, multi-line quoted values,
CRLF line ends and a UTF-8 BOM. ``$VAR`` is kept as it is. Errors name the line, not its text.
"""

from __future__ import annotations

import io

from injector.errors import BadDataError

_BOM = "\ufeff"


def parse(data: bytes, *, reference: str) -> list[tuple[str, bytes]]:
    """Return the (name, value) pairs in *data*, in file order."""
    from dotenv.parser import parse_stream  # noqa: PLC0415 - only env-file users pay for it

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDataError("env-file is not valid UTF-8", reference=reference) from None
    text = text.removeprefix(_BOM).replace("\r\n", "\n")
    pairs: list[tuple[str, bytes]] = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            raise BadDataError(f"env-file syntax error at line {line}", reference=reference)
        if binding.key is None:
            continue
        if binding.value is None:
            msg = f"env-file line {line}: {binding.key} has no '=' and no value"
            raise BadDataError(msg, reference=reference)
        pairs.append((binding.key, binding.value.encode("utf-8", "surrogateescape")))
    return pairs
