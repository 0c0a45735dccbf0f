"""Turn layer hits and config items into findings: visibility, severity, fix-it suggestions."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from injector.scan import configscan, rules, visibility
from injector.scan.model import Finding
from injector.scan.redact import redact, scrub

if TYPE_CHECKING:
    from injector.scan.detect import Detector
    from injector.scan.model import Image

RULES = rules.all_rules()
SUGGEST_SOURCES = ("config-env", "config-label", "history")


def from_layers(image: Image, extra: dict[str, rules.Rule]) -> list[Finding]:
    """Every hit of every layer, with visible_in_final / deleted_in_layer."""
    out: list[Finding] = []
    for index, layer in enumerate(image.layers):
        for path, hits in sorted(layer.hits.items()):
            hidden = visibility.deleted_in(image.layers, index, path)
            for hit in hits:
                rule = RULES.get(hit.rule) or extra[hit.rule]
                out.append(
                    Finding(
                        rule=rule.id,
                        category=rule.category,
                        severity=rule.severity,
                        source="layer",
                        path=hit.path or path,
                        message=_message(rule, hit.detail, index, hit.path or path, hidden),
                        line=hit.line,
                        layer_index=index,
                        layer_digest=layer.diff_id,
                        visible_in_final=hidden is None,
                        deleted_in_layer=hidden,
                        redacted=hit.redacted,
                    )
                )
    return out


def _message(rule: rules.Rule, detail: str, index: int, path: str, hidden: int | None) -> str:
    where = f"layer {index} {path}"
    gone = f", deleted in layer {hidden}" if hidden is not None else ""
    if rule.id == rules.KNOWN_VALUE.id:
        return f"the value of {detail.split(' ', 1)[0]} is in {where}{gone} ({detail})"
    return f"{rule.title} in {where}{gone}"


def from_config(image: Image, detector: Detector, target: str) -> list[Finding]:
    """Every finding of the image config (env, labels, commands, history)."""
    raw_history = image.config.get("history")
    history: list[Any] = raw_history if isinstance(raw_history, list) else []
    layer_of = _history_layers(history)
    name = image.tags[0] if image.tags else target
    items = list(configscan.scan(image.config, detector))
    hidden = _secrets_by_history(items)
    known = [k.text for k in detector.known]
    out = []
    for item in items:
        finding = _config_finding(item, image, layer_of, name)
        if item.history is not None:
            entry = history[item.history]
            raw = str(entry.get("created_by", "")) if isinstance(entry, dict) else ""
            scrubbed = scrub(raw, hidden.get(item.history, []), known)
            finding = replace(finding, created_by=scrubbed)
        out.append(finding)
    return out


def _secrets_by_history(items: list[configscan.Item]) -> dict[int, list[str]]:
    """Every secret found in each history entry: all are hidden in its created_by."""
    found: dict[int, list[str]] = {}
    for item in items:
        if item.history is not None and item.match.secret:
            found.setdefault(item.history, []).append(item.match.secret)
    return found


def _config_finding(
    item: configscan.Item,
    image: Image,
    layer_of: dict[int, int],
    target: str,
) -> Finding:
    rule, match = item.match.rule, item.match
    layer = layer_of.get(item.history) if item.history is not None else None
    created_by = None
    if rule.id == rules.KNOWN_VALUE.id:
        message = f"the value of {match.detail.split(' ', 1)[0]} is in {item.source} {item.path}"
    elif rule.id == rules.USES_REFERENCE.id:
        message = f"{item.path} uses a reference ({match.detail})"
    else:
        message = f"{rule.title} in {item.source} {item.path}"
    return Finding(
        rule=rule.id,
        category=rule.category,
        severity=rule.severity,
        source=item.source,
        path=item.path,
        message=message,
        layer_index=layer,
        layer_digest=image.layer_digests[layer]
        if layer is not None and layer < len(image.layer_digests)
        else None,
        created_by=created_by,
        redacted=redact(match.secret) if match.secret and rule.id != rules.KNOWN_VALUE.id else "",
        suggestion=_suggest(item, target) if rule.severity != "info" else None,
    )


def _history_layers(history: list[Any]) -> dict[int, int]:
    """Map history entries to the layer each created (empty_layer entries: the one below)."""
    mapping: dict[int, int] = {}
    layer = -1
    for index, entry in enumerate(history):
        if not (isinstance(entry, dict) and entry.get("empty_layer")):
            layer += 1
        if layer >= 0:
            mapping[index] = layer
    return mapping


def _suggest(item: configscan.Item, target: str) -> str | None:
    if item.source not in SUGGEST_SOURCES:
        return None
    name = item.path.rsplit("/", 1)[-1]
    if item.path.startswith("history/"):
        name = item.match.detail or "SECRET"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        return None
    app = re.sub(
        r"[^a-z0-9-]+", "-", target.rsplit("/", 1)[-1].split(":", maxsplit=1)[0].lower()
    ).strip("-")
    ref = f"ref+awsssm://{app or 'app'}/{name.lower()}"
    verb = "LABEL" if item.source == "config-label" else "ENV"
    return (
        f"store the value with `injector put {ref}` (reads it from stdin), remove it from the "
        f"image, and set {verb} {name}={ref} so injector fetches it at start"
    )
