"""Strict parsers for everything a user types: flags, variables, reference options.

Each parser takes the raw text and returns the value or raises :class:`BadValueError` with a
sentence saying what was expected (never a secret: these parse configuration only); the
caller turns that into a usage error (64, a flag) or a configuration error (78, a
variable or a reference). Only ASCII is accepted: ``str.isdigit()`` and ``float()`` take
``²``, ``١٢`` and ``1_000``, and ``float()`` takes ``nan``, ``inf`` and ``1e999``.
Surrounding spaces and tabs are ignored.
"""

from __future__ import annotations

import re

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
_BLANK = " \t\r\n"
_DIGITS = re.compile(r"[0-9]{1,20}")
_DECIMAL = re.compile(r"(?:[0-9]{1,9}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})")
_OCTAL = re.compile(r"[0-7]{1,4}")
MODE_MAX = 0o777  # permission bits only
_SHOWN = 40
ID_MAX = (1 << 32) - 2  # uid_t/gid_t; 2**32 - 1 is chown's "leave unchanged"


def _shown(raw: str) -> str:
    """Quote *raw* for a one-line message, cut to 40 characters."""
    return repr(raw) if len(raw) <= _SHOWN else repr(raw[:_SHOWN]) + "..."


class BadValueError(ValueError):
    """The text is not a value of the expected kind; the message says what was expected."""


def boolean(raw: str) -> bool:
    """Parse a yes/no word: one of TRUE_WORDS or FALSE_WORDS, in any case."""
    word = raw.strip(_BLANK).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    words = "/".join(sorted(TRUE_WORDS)) + " or " + "/".join(sorted(FALSE_WORDS - {""}))
    raise BadValueError(f"expected {words}, not {_shown(raw)}")


def integer(raw: str, low: int, high: int, unit: str = "a whole number") -> int:
    """Parse ASCII decimal digits into an int from *low* to *high*."""
    text = raw.strip(_BLANK)
    if _DIGITS.fullmatch(text) is None or not low <= int(text) <= high:
        raise BadValueError(f"expected {unit} from {low} to {high}, not {_shown(raw)}")
    return int(text)


def seconds(raw: str, high: float) -> float:
    """Parse a plain decimal number of seconds above 0 and below *high* (no exponent)."""
    text = raw.strip(_BLANK)
    if _DECIMAL.fullmatch(text) is None:
        raise BadValueError(f"expected a number of seconds such as 30 or 2.5, not {_shown(raw)}")
    value = float(text)
    if not 0 < value < high:
        raise BadValueError(f"must be above 0 and below {high:g} seconds, not {_shown(raw)}")
    return value


def mode(raw: str) -> int:
    """Parse permission bits as 1 to 4 octal digits (``0400``, ``440``, ``0o440``), at most 0777."""
    text = raw.strip(_BLANK).removeprefix("0o")
    if _OCTAL.fullmatch(text) is None or int(text, 8) > MODE_MAX:
        raise BadValueError(f"expected an octal mode from 0000 to 0777, not {_shown(raw)}")
    return int(text, 8)


def owner(raw: str) -> tuple[int, int]:
    """Parse ``uid:gid``, both ASCII decimal numbers below 4294967295."""
    uid, colon, gid = raw.strip(_BLANK).partition(":")
    number = _DIGITS.fullmatch
    if not (colon and number(uid) and number(gid)) or max(int(uid), int(gid)) > ID_MAX:
        raise BadValueError(f"expected numeric uid:gid such as 1000:1000, not {_shown(raw)}")
    return int(uid), int(gid)


def choice(raw: str, words: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    """Parse one of *words* (any case; *aliases* map other spellings to a word)."""
    word = raw.strip(_BLANK).lower()
    word = (aliases or {}).get(word, word)
    if word not in words:
        raise BadValueError(f"expected one of {', '.join(words)}, not {_shown(raw)}")
    return word
