"""The values a scan passes around: hits, layers, images and findings (never a secret value)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

SEVERITIES = ("info", "low", "medium", "high", "critical")
SOURCES = ("layer", "config-env", "config-label", "history", "config-cmd")


def severity_rank(severity: str) -> int:
    """Return the order of *severity* (info lowest)."""
    return SEVERITIES.index(severity)


class Hit(NamedTuple):
    """One detection inside a file or a config value: the rule and where, plus a redaction."""

    rule: str
    line: int
    redacted: str
    detail: str = ""
    path: str = ""  # a path inside a nested archive, when the hit is in one


@dataclass
class LayerScan:
    """What one layer holds: its entries, whiteouts, opaque dirs, hard links and its hits."""

    diff_id: str = ""
    paths: set[str] = field(default_factory=set)
    whiteouts: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)
    links: dict[str, str] = field(default_factory=dict)  # hard link path -> target
    hits: dict[str, list[Hit]] = field(default_factory=dict)  # path -> hits
    policy: dict[str, list[str]] = field(default_factory=dict)  # content regex -> paths
    size: int = 0
    skipped: int = 0  # files above --max-file-size (read only up to it)


@dataclass(frozen=True)
class Finding:
    """One reported finding; ``redacted`` is the only trace of the value."""

    rule: str
    category: str
    severity: str
    source: str
    path: str
    message: str
    line: int = 0
    layer_index: int | None = None
    layer_digest: str | None = None
    created_by: str | None = None
    visible_in_final: bool | None = None
    deleted_in_layer: int | None = None
    redacted: str = ""
    suggestion: str | None = None

    @property
    def fingerprint(self) -> str:
        """Hash rule, location and path, never anything derived from the value."""
        parts = (
            "v1",
            self.rule,
            self.source,
            self.layer_digest or "",
            self.path,
            str(self.line),
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def uri(self) -> str:
        """Return the SARIF artifact URI: ``layer/<n>/<path>`` or ``image-config/...``."""
        if self.source == "layer":
            return f"layer/{self.layer_index}{self.path}"
        kind = self.source.removeprefix("config-")
        return f"image-config/{kind}/{self.path}"


@dataclass
class Image:
    """An image as read from a target: its config document and its layers in order."""

    config: dict[str, object]
    layers: list[LayerScan]
    image_id: str = ""
    tags: list[str] = field(default_factory=list)
    layer_digests: list[str] = field(default_factory=list)
