"""Whiteouts applied: is a file of layer *i* in the final image, or which layer hid it.

A later layer hides a path when it whites it (or a parent) out, marks a parent opaque, or
puts a new entry at the same path. A hard link in the same layer keeps the content visible
as long as the link itself is.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from injector.scan.model import LayerScan


def _parents(path: str) -> list[str]:
    parents = []
    while path not in {"/", ""}:
        path = posixpath.dirname(path)
        parents.append(path)
    return parents


def hidden_in(layers: list[LayerScan], index: int, path: str) -> int | None:
    """Return the first layer after *index* that hides *path*, or None when it stays visible."""
    parents = _parents(path)
    for later in range(index + 1, len(layers)):
        layer = layers[later]
        if path in layer.paths or path in layer.whiteouts:
            return later
        if any(p in layer.whiteouts for p in parents):
            return later
        if any(p in layer.opaque for p in parents):
            return later
    return None


def deleted_in(layers: list[LayerScan], index: int, path: str) -> int | None:
    """Like hidden_in, but a hard link to *path* that stays visible keeps the content visible."""
    names = [path] + [link for link, target in layers[index].links.items() if target == path]
    hidden = [hidden_in(layers, index, name) for name in names]
    if any(h is None for h in hidden):
        return None
    return max(h for h in hidden if h is not None)
