"""The image config: Env, Labels, commands, container_config and history with build args.

Entrypoint/Cmd/OnBuild/Healthcheck, the legacy ``container_config`` and history
``created_by`` with its ``|N K=V`` build arguments are scanned as well as Env and Labels.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any, NamedTuple

from injector import references
from injector.scan import rules
from injector.scan.detect import Match

if TYPE_CHECKING:
    from collections.abc import Iterator

    from injector.scan.detect import Detector

COMMAND_FIELDS = ("Entrypoint", "Cmd", "OnBuild", "Healthcheck")
BUILD_ARGS = re.compile(r"^\|(\d+)\s")
ENV_LINE = re.compile(r"(?:^|#\(nop\)\s+)ENV\s+(.*)$", re.DOTALL)


class Item(NamedTuple):
    """One config location and what was found there (the secret stays in memory)."""

    source: str  # config-env, config-label, config-cmd, history
    path: str  # variable, label, field, or history/<n>
    match: Match
    history: int | None = None  # index into history, for created_by and its layer


def scan(config: dict[str, Any], detector: Detector) -> Iterator[Item]:
    """Yield every item of the config that a rule, a known value or a reference matches."""
    for section in ("config", "container_config"):
        body = config.get(section)
        if isinstance(body, dict):
            yield from _body(body, detector, section)
    yield from _history(config.get("history"), detector)


def _body(body: dict[str, Any], detector: Detector, section: str) -> Iterator[Item]:
    prefix = "" if section == "config" else "container_config/"
    for entry in _strings(body.get("Env")):
        name, _, value = entry.partition("=")
        yield from _named("config-env", prefix + name, name, value, detector)
    labels = body.get("Labels")
    if isinstance(labels, dict):
        for name, value in labels.items():
            yield from _named("config-label", prefix + str(name), str(name), str(value), detector)
    for field in COMMAND_FIELDS:
        text = _command_text(body.get(field))
        if text:
            yield from _command("config-cmd", prefix + field, text, detector, None)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _command_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):  # Healthcheck: {"Test": [...]}
        return _command_text(value.get("Test"))
    return str(value) if value else ""


def _named(source: str, path: str, name: str, value: str, detector: Detector) -> Iterator[Item]:
    """Report a NAME=value pair: a reference as info, a rule match, else the name rule."""
    if references.is_reference(value.strip()):
        yield Item(source, path, Match(rules.USES_REFERENCE, "", value.strip()))
        return
    matches = detector.value_hits(path, value)
    for match in matches:
        yield Item(source, path, match)
    if not matches and rules.looks_secret(name) and rules.is_literal(value):
        yield Item(source, path, Match(rules.SECRET_LITERAL, value.strip(), name))


def _command(
    source: str, path: str, text: str, detector: Detector, history: int | None
) -> Iterator[Item]:
    matches = detector.value_hits(path, text)
    for match in matches:
        yield Item(source, path, match, history)
    seen = "\0".join(m.secret for m in matches)
    for name, value in _assignments(text):
        if value in seen or references.is_reference(value):
            continue
        if rules.looks_secret(name) and rules.is_literal(value):
            yield Item(source, path, Match(rules.SECRET_LITERAL, value, name), history)


def _assignments(text: str) -> Iterator[tuple[str, str]]:
    """``--password=x``, ``NAME=x`` words of a command line."""
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        words = text.split()
    for word in words:
        name, equals, value = word.lstrip("-").partition("=")
        if equals and name and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
            yield name, value


def _history(history: object, detector: Detector) -> Iterator[Item]:
    if not isinstance(history, list):
        return
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            continue
        created_by = str(entry.get("created_by", ""))
        args, rest = build_args(created_by)
        for name, value in args:
            for item in _named("history", f"build-arg/{name}", name, value, detector):
                yield item._replace(history=index)
        yield from _command("history", f"history/{index}", rest, detector, index)


def build_args(created_by: str) -> tuple[list[tuple[str, str]], str]:
    """Split ``|2 A=1 B=2 /bin/sh -c ...`` into its build-arg pairs and the command."""
    match = BUILD_ARGS.match(created_by)
    if not match:
        return [], created_by
    count = int(match.group(1))
    rest = created_by[match.end() :]
    pairs: list[tuple[str, str]] = []
    for _ in range(min(count, 1000)):
        word, _, rest = rest.partition(" ")
        name, _, value = word.partition("=")
        pairs.append((name, value))
    return pairs, rest
