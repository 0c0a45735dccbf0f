"""Redaction: the only trace of a value that a finding may carry.

At most the first and last two characters and the length; fewer for short values, and
none at all for values shorter than eight characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

LONG = 16
MEDIUM = 8
MAX_CREATED_BY = 160


def redact(value: str) -> str:
    """Return ``ab…yz (40 chars)``, ``a…z (9 chars)`` or ``(5 chars)``."""
    size = len(value)
    if size >= LONG:
        return f"{value[:2]}…{value[-2:]} ({size} chars)"
    if size >= MEDIUM:
        return f"{value[0]}…{value[-1]} ({size} chars)"
    return f"({size} chars)"


def scrub(text: str, secrets: list[str], known: Sequence[str] = ()) -> str:
    """Return *text* with every secret redacted and every known value removed, then cut."""
    for value in sorted(known, key=len, reverse=True):
        if value:
            text = text.replace(value, "[known value]")
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, f"[{redact(secret)}]")
    if len(text) > MAX_CREATED_BY:
        text = text[: MAX_CREATED_BY - 1] + "…"
    return text
