"""Text and JSON renderings of a scan (never a value: only redactions and fingerprints)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from injector import __version__
from injector.scan.model import severity_rank

if TYPE_CHECKING:
    from injector.scan.model import Finding
    from injector.scan.run import Result

FIELDS = (
    "fingerprint",
    "rule",
    "category",
    "severity",
    "source",
    "layer_index",
    "layer_digest",
    "created_by",
    "path",
    "line",
    "visible_in_final",
    "deleted_in_layer",
    "redacted",
    "suggestion",
    "message",
)


def finding_dict(finding: Finding) -> dict[str, Any]:
    """Return the JSON object of one finding, fields in the documented order."""
    return {name: getattr(finding, name) for name in FIELDS}


def to_json(result: Result) -> str:
    """Render the whole result as one JSON document."""
    document = {
        "tool": {"name": "injector scan", "version": __version__},
        "target": result.target,
        "image": {"id": result.image.image_id, "tags": result.image.tags},
        "layers": [
            {
                "index": i,
                "digest": layer.diff_id,
                "bytes": layer.size,
                "files_truncated": layer.skipped,
            }
            for i, layer in enumerate(result.image.layers)
        ],
        "threshold": result.threshold,
        "exit_code": result.exit_code,
        "suppressed_by_baseline": result.suppressed,
        "findings": [finding_dict(f) for f in result.findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_text(result: Result) -> str:
    """Render a human-readable list, worst first."""
    lines = [f"injector scan {result.target} ({len(result.image.layers)} layers)"]
    ordered = sorted(result.findings, key=lambda f: -severity_rank(f.severity))
    for finding in ordered:
        where = f"layer {finding.layer_index} " if finding.source == "layer" else ""
        line = f":{finding.line}" if finding.line else ""
        state = ""
        if finding.source == "layer":
            hidden = finding.deleted_in_layer
            state = " [visible]" if hidden is None else f" [deleted in layer {hidden}]"
        red = f" {finding.redacted}" if finding.redacted else ""
        lines.append(
            f"{finding.severity.upper():<8} {finding.rule:<24} {finding.source:<12} "
            f"{where}{finding.path}{line}{state}{red}"
        )
        lines.append(f"         {finding.message}")
        if finding.suggestion:
            lines.append(f"         fix: {finding.suggestion}")
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    summary = ", ".join(
        f"{n} {s}" for s, n in sorted(counts.items(), key=lambda x: -severity_rank(x[0]))
    )
    lines.append(
        f"{len(result.findings)} findings ({summary or 'none'}); fail-on {result.threshold}"
    )
    if result.suppressed:
        lines.append(f"{result.suppressed} findings suppressed by the baseline")
    return "\n".join(lines) + "\n"
