r"""Parse dotenv content (seed 001's env-files) in one linear pass, never interpolating.

Accepted: ``KEY=value``, ``export KEY=value``, single quotes (literal, no escapes), double
quotes (``\\ \" \' \n \r \t \a \b \f \v`` decoded, other backslashes kept), ``#`` comments
(an unquoted value ends where whitespace is followed by ``#``), multi-line quoted values,
CRLF line ends and a UTF-8 BOM. ``$VAR`` is kept as it is. A line without ``=`` is an error.

The parser works on the whole text with forward searches only, so its cost is linear in the
input, and it checks the overall deadline as it goes. Errors name the reference and the line
number, never any part of the line (a secret that is not dotenv must not leak through them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from injector.errors import BadDataError

if TYPE_CHECKING:
    from injector.deadline import Deadline

_BOM = "\ufeff"
_BLANK = " \t"
_BLANKS = re.compile(r"[ \t]*")
# Anchored, and no two parts can match the same characters: linear, no backtracking.
_HEAD = re.compile(r"[ \t]*(?:export[ \t]+)?([^=\s#]+)[ \t]*=[ \t]*")
# The common line, NAME=value with no quote and no '#', in one match (the fast path).
_SIMPLE = re.compile(r"[ \t]*(?:export[ \t]+)?([^=\s#]+)[ \t]*=(?![ \t]*['\"])([^\n#]*)(?:\n|\Z)")
_ESCAPES = {
    "\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t",
    "a": "\a", "b": "\b", "f": "\f", "v": "\v",
}  # fmt: skip
_CHECK_EVERY = 1024  # lines between two looks at the deadline


class _Cursor:
    """The text, a position in it, and the line number at that position."""

    def __init__(self, text: str, reference: str, deadline: Deadline | None) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.reference = reference
        self.deadline = deadline

    def fail(self, what: str, line: int | None = None) -> BadDataError:
        return BadDataError(f"env-file line {line or self.line}: {what}", reference=self.reference)

    def skip_blanks(self) -> None:
        match = _BLANKS.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos

    def line_end(self) -> int:
        end = self.text.find("\n", self.pos)
        return len(self.text) if end == -1 else end

    def next_line(self) -> None:
        self.pos = self.line_end() + 1
        self.line += 1
        if self.deadline is not None and self.line % _CHECK_EVERY == 0:
            self.deadline.check(self.reference)

    def count_lines(self, start: int, end: int) -> None:
        self.line += self.text.count("\n", start, end)


def parse(
    data: bytes, *, reference: str, deadline: Deadline | None = None
) -> list[tuple[str, bytes]]:
    """Return the (name, value) pairs in *data*, in file order."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDataError("env-file is not valid UTF-8", reference=reference) from None
    cursor = _Cursor(text.removeprefix(_BOM).replace("\r\n", "\n"), reference, deadline)
    pairs: list[tuple[str, str]] = []
    size, simple = len(cursor.text), _SIMPLE.match
    while cursor.pos < size:
        match = simple(cursor.text, cursor.pos)
        if match is not None:
            pairs.append((match.group(1), match.group(2).strip(_BLANK)))
            cursor.pos = match.end()
            cursor.line += 1
            if cursor.deadline is not None and cursor.line % _CHECK_EVERY == 0:
                cursor.deadline.check(reference)
            continue
        pair = _statement(cursor)
        if pair is not None:
            pairs.append(pair)
        cursor.next_line()
    return [(name, value.encode("utf-8", "surrogateescape")) for name, value in pairs]


def _statement(cursor: _Cursor) -> tuple[str, str] | None:
    """Read one ``[export] KEY=VALUE`` statement, or skip a blank or comment line."""
    head = _HEAD.match(cursor.text, cursor.pos)
    if head is not None and "\n" not in head.group(0):
        cursor.pos = head.end()
        return head.group(1), _value(cursor)
    cursor.skip_blanks()
    if cursor.pos >= len(cursor.text) or cursor.text[cursor.pos] in "#\n":
        return None
    end = cursor.line_end()
    if "=" not in cursor.text[cursor.pos : end]:
        raise cursor.fail("no '=' (expected NAME=value)")
    raise cursor.fail("syntax error (expected NAME=value)")


def _value(cursor: _Cursor) -> str:
    text = cursor.text
    quote = text[cursor.pos] if cursor.pos < len(text) else ""
    if quote == "'":
        value = _single_quoted(cursor)
    elif quote == '"':
        value = _double_quoted(cursor)
    else:
        return _unquoted(cursor)
    _after_quote(cursor)
    return value


def _unquoted(cursor: _Cursor) -> str:
    end = cursor.line_end()
    raw = cursor.text[cursor.pos : end]
    hash_at = raw.find("#")
    while hash_at > 0 and raw[hash_at - 1] not in _BLANK:
        hash_at = raw.find("#", hash_at + 1)
    if hash_at > 0:
        raw = raw[:hash_at]
    cursor.pos = end
    return raw.rstrip(_BLANK)


def _single_quoted(cursor: _Cursor) -> str:
    start_line, start = cursor.line, cursor.pos + 1
    end = cursor.text.find("'", start)
    if end == -1:
        raise cursor.fail("a single quote is not closed", start_line)
    cursor.count_lines(start, end)
    cursor.pos = end + 1
    return cursor.text[start:end]


def _double_quoted(cursor: _Cursor) -> str:
    text, start_line = cursor.text, cursor.line
    parts: list[str] = []
    pos = cursor.pos + 1
    while True:
        quote, slash = text.find('"', pos), text.find("\\", pos)
        if quote == -1:
            raise cursor.fail("a double quote is not closed", start_line)
        if slash == -1 or quote < slash:
            parts.append(text[pos:quote])
            cursor.count_lines(cursor.pos, quote)
            cursor.pos = quote + 1
            return "".join(parts)
        parts.append(text[pos:slash])
        escaped = text[slash + 1 : slash + 2]
        parts.append(_ESCAPES.get(escaped, "\\" + escaped))
        pos = slash + 2


def _after_quote(cursor: _Cursor) -> None:
    """Only blanks and a comment may follow a closing quote on its line."""
    cursor.skip_blanks()
    text = cursor.text
    if cursor.pos < len(text) and text[cursor.pos] not in "#\n":
        raise cursor.fail("syntax error after a quoted value")
    cursor.pos = cursor.line_end()
