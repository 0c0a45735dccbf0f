"""Baselines: fingerprints only (never anything derived from a value)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from injector.errors import ConfigError

if TYPE_CHECKING:
    from injector.scan.model import Finding


def load(path: str) -> frozenset[str]:
    """Read a baseline written by --write-baseline."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read --baseline {path}: {exc}") from None
    prints = data.get("fingerprints") if isinstance(data, dict) else None
    if not isinstance(prints, list) or not all(isinstance(p, str) for p in prints):
        raise ConfigError(f"--baseline {path}: expected {{'fingerprints': [...]}}")
    return frozenset(prints)


def write(path: str, findings: list[Finding]) -> None:
    """Write the fingerprints of *findings* (sorted, one JSON document)."""
    document = {
        "version": 1,
        "tool": "injector scan",
        "fingerprints": sorted({f.fingerprint for f in findings}),
    }
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write --write-baseline {path}: {exc.strerror}") from None
