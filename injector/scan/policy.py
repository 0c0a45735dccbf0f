"""``--policy FILE``: seed 002's gates, one ``GATE:TRIGGER:ACTION[:PARAM=VALUE]`` line per rule.

Gates and triggers:
- ``FILECHECK:FILENAMEMATCH:ACTION:FILECHECK_NAMEREGEXP=REGEX``: a path in any layer matches
  (deleted files count: they are still in the image).
- ``FILECHECK:CONTENTMATCH:ACTION:FILECHECK_CONTENTREGEXP=REGEX``: a file's content matches.
- ``SECRETS:RULE_ID|ANY:ACTION``, ``CATEGORY:NAME:ACTION``, ``LOCATION:SOURCE|DELETED:ACTION``
  and ``SEVERITY:LEVEL:ACTION`` (that level or above): over the findings; each takes an
  optional ``VISIBLE=true|false``.
ACTION is STOP, WARN or GO; the FINAL line is the worst action triggered (GO if none).
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, NamedTuple

from injector.errors import ConfigError
from injector.scan import visibility
from injector.scan.model import SEVERITIES, severity_rank

if TYPE_CHECKING:
    from injector.scan.model import Finding, Image

ACTIONS = ("GO", "WARN", "STOP")
FINDING_GATES = ("SECRETS", "CATEGORY", "LOCATION", "SEVERITY")
MAX_REGEX = 1000
WRAP = 44
MIN_PARTS = 3


class Gate(NamedTuple):
    """One policy line."""

    gate: str
    trigger: str
    action: str
    params: dict[str, str]
    line: str


class Row(NamedTuple):
    """One row of the verdict table."""

    gate: str
    trigger: str
    output: str
    action: str


def load(path: str) -> list[Gate]:
    """Read and validate the policy file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read --policy {path}: {exc}") from None
    return [
        parse(line, path) for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


def parse(line: str, path: str = "policy") -> Gate:
    """Parse one ``GATE:TRIGGER:ACTION[:PARAM=VALUE]`` line."""
    parts = line.strip().split(":", 3)
    if len(parts) < MIN_PARTS:
        raise ConfigError(f"{path}: {line!r} is not GATE:TRIGGER:ACTION[:PARAM=VALUE]")
    gate, trigger, action = (p.strip().upper() for p in parts[:3])
    params: dict[str, str] = {}
    if len(parts) == MIN_PARTS + 1:
        for item in re.split(r":(?=[A-Z_]+=)", parts[3]):
            key, equals, value = item.partition("=")
            if not equals:
                raise ConfigError(f"{path}: {line!r}: parameter {item!r} is not PARAM=VALUE")
            params[key.strip().upper()] = value
    if action not in ACTIONS:
        raise ConfigError(f"{path}: {line!r}: action must be STOP, WARN or GO")
    _check(gate, trigger, params, line, path)
    return Gate(gate, trigger, action, params, line.strip())


def _check(gate: str, trigger: str, params: dict[str, str], line: str, path: str) -> None:
    if gate == "FILECHECK":
        key = {"FILENAMEMATCH": "FILECHECK_NAMEREGEXP", "CONTENTMATCH": "FILECHECK_CONTENTREGEXP"}
        if trigger not in key or key[trigger] not in params:
            raise ConfigError(f"{path}: {line!r}: FILECHECK needs FILENAMEMATCH or CONTENTMATCH")
        regex = params[key[trigger]]
        if len(regex) > MAX_REGEX:
            raise ConfigError(f"{path}: {line!r}: regex above {MAX_REGEX} characters")
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigError(f"{path}: {line!r}: bad regex ({exc})") from None
    elif gate not in FINDING_GATES:
        raise ConfigError(f"{path}: {line!r}: unknown gate (FILECHECK, {', '.join(FINDING_GATES)})")
    elif gate == "SEVERITY" and trigger.lower() not in SEVERITIES:
        raise ConfigError(f"{path}: {line!r}: severity must be one of {', '.join(SEVERITIES)}")


def content_regexes(gates: list[Gate]) -> list[re.Pattern[str]]:
    """Return the CONTENTMATCH regexes the layer scan must run."""
    return [
        re.compile(g.params["FILECHECK_CONTENTREGEXP"])
        for g in gates
        if g.gate == "FILECHECK" and g.trigger == "CONTENTMATCH"
    ]


def evaluate(gates: list[Gate], image: Image, findings: list[Finding]) -> list[Row]:
    """Return the triggered rows followed by the FINAL row."""
    rows: list[Row] = []
    for gate in gates:
        rows.extend(_rows(gate, image, findings))
    worst = max((ACTIONS.index(r.action) for r in rows), default=0)
    return [*rows, Row("FINAL", "FINAL", "", ACTIONS[worst])]


def _rows(gate: Gate, image: Image, findings: list[Finding]) -> list[Row]:
    if gate.trigger == "FILENAMEMATCH":
        return _filename(gate, image)
    if gate.trigger == "CONTENTMATCH":
        return _content(gate, image)
    return [
        Row(gate.gate, gate.trigger, f"{f.message} (rule {f.rule}, {f.severity})", gate.action)
        for f in findings
        if _matches(gate, f)
    ]


def _state(image: Image, index: int, path: str) -> str:
    hidden = visibility.deleted_in(image.layers, index, path)
    return f"layer {index}" + (f", deleted in layer {hidden}" if hidden is not None else "")


def _filename(gate: Gate, image: Image) -> list[Row]:
    regex = re.compile(gate.params["FILECHECK_NAMEREGEXP"])
    rows = []
    for index, layer in enumerate(image.layers):
        for path in sorted(p for p in layer.paths if regex.match(p)):
            output = (
                f"application of regexp matched file found in container: file={path} "
                f"({_state(image, index, path)}) regexp={regex.pattern}"
            )
            rows.append(Row(gate.gate, gate.trigger, output, gate.action))
    return rows


def _content(gate: Gate, image: Image) -> list[Row]:
    pattern = gate.params["FILECHECK_CONTENTREGEXP"]
    rows = []
    for index, layer in enumerate(image.layers):
        for path in sorted(layer.policy.get(pattern, [])):
            output = (
                f"application of regexp matched file content in container: file={path} "
                f"({_state(image, index, path)}) regexp={pattern}"
            )
            rows.append(Row(gate.gate, gate.trigger, output, gate.action))
    return rows


def _matches(gate: Gate, finding: Finding) -> bool:
    visible = gate.params.get("VISIBLE", "").lower()
    if visible and (finding.visible_in_final is not False) != (visible == "true"):
        return False
    trigger = gate.trigger.lower()
    if gate.gate == "SECRETS":
        return (trigger == "any" and finding.severity != "info") or trigger == finding.rule
    if gate.gate == "CATEGORY":
        return trigger == finding.category
    if gate.gate == "LOCATION":
        if trigger == "deleted":
            return finding.deleted_in_layer is not None
        return trigger == finding.source
    return severity_rank(finding.severity) >= severity_rank(trigger)


def table(rows: list[Row], image_id: str, tag: str) -> str:
    """Render the verdict as seed 002's table (Check Output wrapped)."""
    header = ("Image Id", "Repo Tag", "Gate", "Trigger", "Check Output", "Gate Action")
    body = [(image_id[:12], tag, r.gate, r.trigger, r.output, r.action) for r in rows]
    widths = [len(h) for h in header]
    wrapped = []
    for cells in body:
        lines = [textwrap.wrap(c, WRAP, break_long_words=True) or [""] for c in cells]
        wrapped.append(lines)
        widths = [max(w, *(len(x) for x in col)) for w, col in zip(widths, lines, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [rule, _line(header, widths), rule]
    for lines in wrapped:
        out.extend(
            _line([col[n] if n < len(col) else "" for col in lines], widths)
            for n in range(max(len(col) for col in lines))
        )
    out.append(rule)
    return "\n".join(out) + "\n"


def _line(cells: tuple[str, ...] | list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
