"""SARIF 2.1.0, as GitHub code scanning reads it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from injector import __version__
from injector.scan import rules

if TYPE_CHECKING:
    from injector.scan.model import Finding
    from injector.scan.run import Result

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"info": "note", "low": "note", "medium": "warning", "high": "error", "critical": "error"}
SCORES = {"info": "0.0", "low": "3.0", "medium": "5.0", "high": "8.0", "critical": "9.5"}


def _rule(rule: rules.Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.id.replace("-", " ").title().replace(" ", ""),
        "shortDescription": {"text": rule.title},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "category": rule.category,
            "security-severity": SCORES[rule.severity],
            "tags": ["security", "secrets"],
        },
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    region = {"startLine": finding.line} if finding.line else None
    physical: dict[str, Any] = {"artifactLocation": {"uri": finding.uri.lstrip("/")}}
    if region:
        physical["region"] = region
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"injectorScan/v1": finding.fingerprint},
        "properties": {
            "severity": finding.severity,
            "source": finding.source,
            "visible_in_final": finding.visible_in_final,
            "deleted_in_layer": finding.deleted_in_layer,
            "redacted": finding.redacted,
        },
    }


def to_sarif(result: Result, extra: dict[str, rules.Rule]) -> str:
    """Render the result as a SARIF 2.1.0 log with one run."""
    table = {**rules.all_rules(), **extra}
    used = sorted({f.rule for f in result.findings})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "injector-scan",
                        "version": __version__,
                        "rules": [_rule(table[r]) for r in used],
                    }
                },
                "results": [_result(f, index) for f in result.findings],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
