"""Per-layer results under ``$XDG_CACHE_HOME/injector/scan``, keyed by (diff_id, rules, version).

An entry holds what the layer scan produced: paths, whiteouts, hard links and hits (rule,
line, redaction), never a value. Scans with ``--known-from`` neither read nor write it, so
nothing derived from a known value ever reaches the disk.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING

from injector import __version__
from injector.scan.model import Hit, LayerScan

if TYPE_CHECKING:
    from collections.abc import Mapping


def directory(environ: Mapping[str, str]) -> str:
    """Return the cache directory ($XDG_CACHE_HOME, else ~/.cache)."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "injector", "scan")


class Cache:
    """Layer results on disk (files 0600 in a 0700 directory)."""

    def __init__(self, root: str, rules_hash: str) -> None:
        """Use *root* for results computed with rules hashing to *rules_hash*."""
        self.root = root
        self._rules = rules_hash

    def _path(self, diff_id: str) -> str:
        key = hashlib.sha256(f"{diff_id}|{self._rules}|{__version__}".encode()).hexdigest()
        return os.path.join(self.root, key + ".json")

    def get(self, diff_id: str) -> LayerScan | None:
        """Return the cached result for *diff_id*, or None."""
        if not diff_id:
            return None
        try:
            with open(self._path(diff_id), encoding="utf-8") as handle:
                return _load(json.load(handle), diff_id)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def put(self, scan: LayerScan) -> None:
        """Store *scan* (best effort: a cache that cannot be written is skipped)."""
        try:
            os.makedirs(self.root, mode=0o700, exist_ok=True)
            path = self._path(scan.diff_id)
            tmp = f"{path}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(_dump(scan), handle)
            os.replace(tmp, path)
        except OSError:
            return


def _dump(scan: LayerScan) -> dict[str, object]:
    return {
        "diff_id": scan.diff_id,
        "paths": sorted(scan.paths),
        "whiteouts": sorted(scan.whiteouts),
        "opaque": sorted(scan.opaque),
        "links": scan.links,
        "hits": {path: [list(hit) for hit in hits] for path, hits in scan.hits.items()},
        "policy": scan.policy,
        "size": scan.size,
        "skipped": scan.skipped,
    }


def _load(data: dict[str, object], diff_id: str) -> LayerScan:
    if data["diff_id"] != diff_id:
        raise ValueError(diff_id)
    hits = data["hits"]
    if not isinstance(hits, dict):
        raise TypeError(diff_id)  # a corrupt entry is a miss (an assert would escape get())
    return LayerScan(
        diff_id=diff_id,
        paths=set(data["paths"]),  # type: ignore[call-overload]
        whiteouts=set(data["whiteouts"]),  # type: ignore[call-overload]
        opaque=set(data["opaque"]),  # type: ignore[call-overload]
        links=dict(data["links"]),  # type: ignore[call-overload]
        hits={str(p): [Hit(*h) for h in hs] for p, hs in hits.items()},
        policy=dict(data["policy"]),  # type: ignore[call-overload]
        size=int(data["size"]),  # type: ignore[call-overload]
        skipped=int(data["skipped"]),  # type: ignore[call-overload]
    )
