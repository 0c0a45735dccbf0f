"""vals' inline expressions: ``ref+...+`` inside a longer value, each replaced by its secret.

The grammar is vals' own (its ``DefaultRefRegexp``): ``ref+`` or ``secretref+``, a scheme
(no ``+`` or ``:``), ``://``, then at least two characters that are not ``+``, newline or
space, the last one not ``"`` or ``,``; an optional ``+`` ends the expression. Everything
else in the value is kept literally: no other interpolation (``$VAR`` stays), never
recursive (a secret that contains ``ref+`` is delivered as it is). Expressions nested inside
one another (vals resolves them inside-out) are refused (78). A whole value that is one
expression (a trailing ``+`` allowed) is a plain reference; so is a whole ``ref+awskms://``
value without whitespace, whose standard base64 may hold ``+`` (injector encrypt prints it).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, NamedTuple

from injector import references
from injector.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from injector.references import Reference
    from injector.secret import Secret

EXPRESSION = re.compile(r"(?:secret)?ref\+[^+:]*://[^+\n ]+[^+\n \",]\+?")
_PREFIX = re.compile(r"(?:secret)?ref\+")
_KMS = ("ref+awskms://", "secretref+awskms://")


class Inline(NamedTuple):
    """A variable whose value mixes literal text and references."""

    variable: str
    parts: tuple[str | Reference, ...]
    to_file: bool = False

    def references(self) -> tuple[Reference, ...]:
        """Return the references, in order."""
        return tuple(p for p in self.parts if not isinstance(p, str))

    def literal_bytes(self) -> int:
        """Return the length of the literal parts (safe to show: they are in the environment)."""
        return sum(len(os.fsencode(p)) for p in self.parts if isinstance(p, str))


def whole(value: str) -> str | None:
    """Return the reference text if *value* is one whole reference, else None.

    A value starting with ``ref+`` that vals' grammar does not match at all stays a whole
    reference, as before (so a typo is exit 78, not a literal).
    """
    if not references.is_reference(value):
        return None
    if not value.startswith(("ref+", "secretref+")):
        return value  # an ECS ARN
    if value.startswith(_KMS) and not any(c.isspace() for c in value):
        return value.removesuffix("+") if value.endswith("=+") else value
    match = EXPRESSION.match(value)
    if match is None:
        return value
    if match.end() == len(value):
        return _text(match.group(0))
    return None


def parse(variable: str, value: str, *, to_file: bool = False) -> Inline | None:
    """Return *value* split into literal parts and references, or None without expressions."""
    matches = list(EXPRESSION.finditer(value))
    if not matches:
        return None
    parts: list[str | Reference] = []
    at = 0
    for match in matches:
        if match.start() > at:
            parts.append(value[at : match.start()])
        _refuse_nesting(value, match)
        parts.append(references.parse(_text(match.group(0))))
        at = match.end()
    if at < len(value):
        parts.append(value[at:])
    return Inline(variable, tuple(parts), to_file)


def compose(item: Inline, values: Mapping[Reference, Secret]) -> bytes:
    """Return the value with each expression replaced by its secret (never re-expanded)."""
    return b"".join(
        os.fsencode(part) if isinstance(part, str) else values[part].reveal() for part in item.parts
    )


def _text(expression: str) -> str:
    return expression.removesuffix("+")


def _refuse_nesting(value: str, match: re.Match[str]) -> None:
    """Refuse ``ref+`` inside an expression: vals would resolve it first, injector never."""
    own = _PREFIX.match(value, match.start())
    inner = _PREFIX.search(value, own.end() if own else match.end(), match.end())
    if inner is not None:
        msg = "nested expressions (ref+ inside ref+) are not supported"
        raise ConfigError(msg, reference=references.display(match.group(0)))
