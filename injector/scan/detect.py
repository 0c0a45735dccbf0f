"""The detector: one Aho-Corasick pass selects candidate windows, then bounded regexes run there.

One automaton holds every rule literal and every known value (case-sensitive, over the
bytes decoded as latin-1, so offsets are byte offsets); a second one, over the lowercased
text of config-like files only, selects the lines where keyword, entropy and
name=literal rules run. Every regex sees at most one window of ``WINDOW`` characters, so a
hostile file costs time proportional to its size, never more.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, NamedTuple

import ahocorasick

from injector import references
from injector.scan import rules
from injector.scan.model import Hit, severity_rank
from injector.scan.redact import redact

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from injector.scan.known import Known
    from injector.scan.settings import Settings

WINDOW = 4096
SNIFF = 8192
MAX_VALUE = 64 << 10
AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
AWS_KEY_ID = re.compile(r"^(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}$")
KEYWORD_TOKEN = ("w", 0)
SHORT = 8


class Match(NamedTuple):
    """A rule matched a secret string in a window (kept in memory only, never stored)."""

    rule: rules.Rule
    secret: str
    detail: str = ""


def _plugin_instances() -> list[tuple[rules.Plugin, Any]]:
    """Instantiate each plugin from its module (no package walk: works frozen too)."""
    import importlib  # noqa: PLC0415

    return [
        (plugin, getattr(importlib.import_module(plugin.module), plugin.name)())
        for plugin in rules.PLUGINS
    ]


def _entropy_instances() -> list[Any]:
    from detect_secrets.plugins import high_entropy_strings as hes  # noqa: PLC0415

    return [hes.Base64HighEntropyString(), hes.HexHighEntropyString()]


class Detector:
    """Find secrets in file contents, in paths and in config values."""

    def __init__(
        self,
        settings: Settings,
        known: Sequence[Known] = (),
        policy: Sequence[re.Pattern[str]] = (),
    ) -> None:
        """Build both automatons from the rule table, the settings and the known values."""
        self.settings = settings
        self.known = list(known)
        self.policy = list(policy)
        disabled = settings.disabled
        self._plugins = [(p, i) for p, i in _plugin_instances() if p.rule.id not in disabled]
        self._patterns = [p for p in rules.PATTERNS if p.rule.id not in disabled]
        self._patterns += list(settings.extra)
        self._entropy = _entropy_instances() if rules.ENTROPY.id not in disabled else []
        self._main = self._build_main()
        # Binaries get the known values only: their own automaton, so the rule literals
        # (short, frequent in machine code) cost nothing there.
        self._known_only = _automaton((k.text, (("k", i),)) for i, k in self._known_words().items())
        self._keywords = _automaton((kw, (KEYWORD_TOKEN,)) for kw in rules.KEYWORDS)

    def _build_main(self) -> Any:  # noqa: ANN401 - ahocorasick.Automaton is untyped
        words: dict[str, list[tuple[str, int]]] = {}
        for index, (plugin, _) in enumerate(self._plugins):
            for literal in plugin.literals:
                words.setdefault(literal, []).append(("p", index))
        for index, pattern in enumerate(self._patterns):
            for literal in pattern.literals:
                words.setdefault(literal, []).append(("o", index))
        for index, known in self._known_words().items():
            words.setdefault(known.text, []).append(("k", index))
        return _automaton((word, tuple(tokens)) for word, tokens in words.items())

    def _known_words(self) -> dict[int, Known]:
        """Return one known encoding per distinct text (the first reference that has it)."""
        first: dict[str, int] = {}
        for index, known in enumerate(self.known):
            first.setdefault(known.text, index)
        return {index: self.known[index] for index in first.values()}

    def nested(self) -> Detector:
        """Return the detector to use inside an archive found in a layer (the same one)."""
        return self

    # --- paths ---

    def allowed(self, path: str) -> bool:
        """Tell whether --config allowlists *path*."""
        return self.settings.allows(path)

    def path_hits(self, path: str) -> list[Hit]:
        """Return the file-name rules that *path* triggers."""
        if self.allowed(path):
            return []
        return [
            Hit(rule.id, 0, "", "file name")
            for rule, regex in rules.FILE_RULES
            if rule.id not in self.settings.disabled and regex.search(path)
        ]

    def policy_matches(self, data: bytes) -> list[str]:
        """Return the --policy CONTENTMATCH regexes that match *data*."""
        if not self.policy:
            return []
        text = data.decode("latin-1")
        return [p.pattern for p in self.policy if p.search(text)]

    # --- file contents ---

    def content_hits(self, path: str, data: bytes) -> list[Hit]:
        """Return the hits in one file's content (known values even in binaries)."""
        if not data or self.allowed(path):
            return []
        text = data.decode("latin-1")
        binary = b"\0" in data[:SNIFF]
        windows: dict[int, set[tuple[str, int]]] = {}
        found: list[tuple[int, Match]] = []
        for end, tokens in _iter(self._known_only if binary else self._main, text):
            known = [t for t in tokens if t[0] == "k"]
            found.extend((end, self._known_match(t[1])) for t in known)
            if not binary and len(known) < len(tokens):
                windows.setdefault(_window_start(text, end), set()).update(tokens)
        if not binary and rules.CONFIG_LIKE.search(path):
            for end, tokens in _iter(self._keywords, text.lower()):
                windows.setdefault(_window_start(text, end), set()).update(tokens)
        for start, selected in windows.items():
            found.extend((start, m) for m in self._window(text, start, selected, path))
        if path in rules.DISTRO_EXAMPLES:
            found = [(o, m) for o, m in found if m.rule.id != rules.SECRET_LITERAL.id]
        return _to_hits(text, found, self._aws_pairs(text, found))

    def _known_match(self, index: int) -> Match:
        known = self.known[index]
        return Match(rules.KNOWN_VALUE, "", f"{known.reference} ({known.encoding})")

    def _window(
        self, text: str, start: int, tokens: set[tuple[str, int]], path: str
    ) -> Iterator[Match]:
        window = _cut(text, start)
        for kind, index in sorted(tokens):
            if kind == "p":
                yield from self._plugin(index, window)
            elif kind == "o":
                yield from self._pattern(self._patterns[index], window, path)
            elif kind == "w":
                yield from self._keyword_line(window)

    def _plugin(self, index: int, window: str) -> Iterator[Match]:
        plugin, instance = self._plugins[index]
        yield from _library(plugin, instance, window)

    def _pattern(self, pattern: rules.Pattern, window: str, path: str) -> Iterator[Match]:
        if pattern.files and not path.endswith(pattern.files):
            return
        for match in pattern.regex.finditer(window):
            secret = match.group(1) if match.groups() else match.group(0)
            if pattern.rule.id == "base64-private-key" and not _is_pem_key(secret):
                continue
            yield Match(pattern.rule, secret)

    def _keyword_line(self, window: str) -> Iterator[Match]:
        line = window.split("\n", 1)[0]
        if rules.COMMENT.match(line):
            return
        for plugin, instance in self._plugins:
            if not plugin.literals:
                yield from _library(plugin, instance, line)
        for match in rules.ASSIGNMENT.finditer(line):
            yield from _assignment(match.group(1), match.group(2))
        yield from self._entropy_matches(line)

    def _entropy_matches(self, line: str) -> Iterator[Match]:
        for instance in self._entropy:
            for secret in instance.analyze_string(line):
                if instance.calculate_shannon_entropy(secret) >= instance.entropy_limit:
                    yield Match(rules.ENTROPY, str(secret))

    def _aws_pairs(self, text: str, found: list[tuple[int, Match]]) -> list[tuple[int, Match]]:
        """Upgrade a 40-character key near an AWS access key ID to an AWS secret key."""
        pairs: list[tuple[int, Match]] = []
        for offset, match in found:
            if match.rule.id == "aws-access-key" and AWS_KEY_ID.match(match.secret):
                lo = max(0, offset - 3 * WINDOW // 4)
                hi = min(len(text), offset + 3 * WINDOW // 4)
                pairs.extend(
                    (hit.start(), Match(rules.AWS_PAIR, hit.group(0)))
                    for hit in AWS_SECRET.finditer(text, lo, hi)
                )
        return pairs

    # --- config values ---

    def value_hits(self, name: str, value: str) -> list[Match]:
        """Return every match in one config value (env, label, command, history line)."""
        value = value[:MAX_VALUE]
        matches: list[Match] = []
        for _end, tokens in _iter(self._main, value):
            matches.extend(self._known_match(t[1]) for t in tokens if t[0] == "k")
        for plugin, instance in self._plugins:
            matches.extend(_library(plugin, instance, value))
        for pattern in self._patterns:
            matches.extend(self._pattern(pattern, value, name))
        return _strongest(matches)


def _library(plugin: rules.Plugin, instance: Any, window: str) -> Iterator[Match]:  # noqa: ANN401
    """Run one library plugin; when it reports only a prefix (a regex group), take the match."""
    for secret in instance.analyze_string(window):
        text = str(secret).strip()
        if len(text) < SHORT:
            text = _whole_match(instance, window, text)
        if text:
            yield Match(plugin.rule, text)


def _whole_match(instance: Any, window: str, part: str) -> str:  # noqa: ANN401
    for regex in getattr(instance, "denylist", ()):
        for match in regex.finditer(window):
            if part in match.group(0):
                return str(match.group(0)).strip()
    return part


def _assignment(name: str, value: str) -> Iterator[Match]:
    if rules.NOT_SECRET_NAME.search(name):
        return
    if references.is_reference(value):
        yield Match(rules.USES_REFERENCE, "", value)
    elif rules.is_literal(value):
        yield Match(rules.SECRET_LITERAL, value, name)


def _is_pem_key(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded[: len(encoded) // 4 * 4], validate=False)
    except (binascii.Error, ValueError):
        return False
    return b"PRIVATE KEY" in decoded[:200]


def _automaton(words: Iterable[tuple[str, tuple[tuple[str, int], ...]]]) -> Any:  # noqa: ANN401
    automaton = ahocorasick.Automaton()
    for word, tokens in words:
        automaton.add_word(word, tokens)
    automaton.make_automaton()
    return automaton


def _iter(automaton: Any, text: str) -> Iterator[tuple[int, tuple[tuple[str, int], ...]]]:  # noqa: ANN401
    if len(automaton) == 0 or not text:
        return iter(())
    result: Iterator[tuple[int, tuple[tuple[str, int], ...]]] = automaton.iter(text)
    return result


def _window_start(text: str, end: int) -> int:
    """Return where the window for a literal ending at *end* starts (its line, or near it)."""
    start = text.rfind("\n", max(0, end - WINDOW), end) + 1
    if start == 0 and end >= WINDOW:  # a long line: windows on a grid, so nearby hits share one
        return (end - WINDOW // 2) // (WINDOW // 2) * (WINDOW // 2)
    return start


def _cut(text: str, start: int) -> str:
    """Return the window at *start*: its line and the next (private keys span lines)."""
    window = text[start : start + WINDOW]
    first = window.find("\n")
    if first < 0:
        return window
    second = window.find("\n", first + 1)
    return window if second < 0 else window[:second]


def _strongest(matches: list[Match]) -> list[Match]:
    """Keep, for each secret, the match of the highest severity."""
    best: dict[str, Match] = {}
    for match in matches:
        key = match.secret or match.detail
        old = best.get(key)
        if old is None or severity_rank(match.rule.severity) > severity_rank(old.rule.severity):
            best[key] = match
    return list(best.values())


def _to_hits(
    text: str, found: list[tuple[int, Match]], extra: list[tuple[int, Match]]
) -> list[Hit]:
    """Turn (offset, match) pairs into hits with line numbers.

    A secret is reported under its strongest rule only, once per line it is on.
    """
    pairs = found + extra
    strongest: dict[str, int] = {}
    for _, match in pairs:
        key = match.secret or match.detail
        strongest[key] = max(strongest.get(key, -1), severity_rank(match.rule.severity))
    best: dict[tuple[int, str], Hit] = {}
    lines = _LineCounter(text)
    for offset, match in sorted(pairs, key=lambda pair: pair[0]):
        key = match.secret or match.detail
        if severity_rank(match.rule.severity) < strongest[key]:
            continue
        line = lines.at(offset)
        if (line, key) not in best:
            redacted = redact(match.secret) if match.secret else ""
            best[line, key] = Hit(match.rule.id, line, redacted, match.detail)
    return list(best.values())


class _LineCounter:
    """Line numbers for increasing offsets, counting each newline once."""

    def __init__(self, text: str) -> None:
        self._text, self._pos, self._line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset > self._pos:
            self._line += self._text.count("\n", self._pos, offset)
            self._pos = offset
        return self._line
