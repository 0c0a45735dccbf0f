"""Which documents make up the image, then its config and its layers.

``manifest.json`` (docker save, legacy and Docker >= 25) or ``index.json`` (OCI layout,
nested indexes included).
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from injector.scan.errors import CorruptArchiveError

if TYPE_CHECKING:
    from injector.scan.blobs import Store

DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MAX_DEPTH = 4
REF_NAME = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


class LayerRef(NamedTuple):
    """One layer: the blob to read and the diff_id the config expects for it."""

    name: str
    diff_id: str


class Layout(NamedTuple):
    """The image's config document and its layers, bottom first."""

    config: dict[str, Any]
    config_digest: str
    layers: list[LayerRef]
    tags: list[str]


def resolve(store: Store) -> Layout:
    """Read the image's layout from *store*, or raise CorruptArchiveError."""
    if store.exists("manifest.json"):
        return _docker(store)
    if store.exists("index.json"):
        return _oci(store)
    raise CorruptArchiveError("neither manifest.json nor index.json: not an image archive")


def document(store: Store, name: str) -> Any:  # noqa: ANN401 - JSON
    """Parse one JSON document of the store, naming it on failure."""
    try:
        return json.loads(store.read(name))
    except (ValueError, UnicodeDecodeError):
        raise CorruptArchiveError(f"{name}: not valid JSON") from None


def _expect(value: object, kind: type, what: str) -> Any:  # noqa: ANN401
    if not isinstance(value, kind):
        raise CorruptArchiveError(f"{what}: expected a JSON {kind.__name__}")
    return value


def _docker(store: Store) -> Layout:
    entries = _expect(document(store, "manifest.json"), list, "manifest.json")
    if not entries:
        raise CorruptArchiveError("manifest.json: no image in it")
    entry = _expect(entries[0], dict, "manifest.json[0]")
    config_name = _expect(entry.get("Config"), str, "manifest.json Config")
    blobs = _expect(entry.get("Layers", []), list, "manifest.json Layers")
    tags = [str(t) for t in _expect(entry.get("RepoTags") or [], list, "manifest.json RepoTags")]
    return _layout(
        store, config_name, [_expect(b, str, "manifest.json Layers") for b in blobs], tags
    )


def _layout(store: Store, config_name: str, blobs: list[str], tags: list[str]) -> Layout:
    raw = store.read(config_name)
    config = _expect(document(store, config_name), dict, config_name)
    rootfs = _expect(config.get("rootfs", {}), dict, f"{config_name} rootfs")
    diff_ids = _expect(rootfs.get("diff_ids", []), list, f"{config_name} rootfs.diff_ids")
    if len(diff_ids) != len(blobs):
        msg = f"{config_name}: {len(diff_ids)} diff_ids for {len(blobs)} layers"
        raise CorruptArchiveError(msg)
    layers = [LayerRef(b, str(d)) for b, d in zip(blobs, diff_ids, strict=True)]
    return Layout(config, "sha256:" + hashlib.sha256(raw).hexdigest(), layers, tags)


def blob_name(digest: object, what: str) -> str:
    """Return ``blobs/<alg>/<hex>`` for a descriptor's digest (validated: no path tricks)."""
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise CorruptArchiveError(f"{what}: bad digest {str(digest)[:80]!r}")
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _oci(store: Store) -> Layout:
    index = _expect(document(store, "index.json"), dict, "index.json")
    candidates = list(_manifests(store, index, "index.json", 0, []))
    if not candidates:
        raise CorruptArchiveError("index.json: no image manifest in it")
    descriptor, tags = _choose(candidates)
    name = blob_name(descriptor.get("digest"), "index.json manifest")
    manifest = _expect(document(store, name), dict, name)
    config = _expect(manifest.get("config"), dict, f"{name} config")
    layers = _expect(manifest.get("layers", []), list, f"{name} layers")
    blobs = [blob_name(_expect(d, dict, f"{name} layer").get("digest"), name) for d in layers]
    return _layout(store, blob_name(config.get("digest"), f"{name} config"), blobs, tags)


def _manifests(store: Store, index: dict[str, Any], what: str, depth: int, tags: list[str]) -> Any:  # noqa: ANN401 - a generator of (descriptor, tags)
    if depth > MAX_DEPTH:
        raise CorruptArchiveError(f"{what}: indexes nested more than {MAX_DEPTH} deep")
    for item in _expect(index.get("manifests", []), list, f"{what} manifests"):
        descriptor = _expect(item, dict, f"{what} manifest")
        annotations = descriptor.get("annotations") or {}
        names = [
            str(annotations[k])
            for k in REF_NAME
            if isinstance(annotations, dict) and k in annotations
        ]
        if descriptor.get("mediaType") in INDEX_TYPES:
            name = blob_name(descriptor.get("digest"), what)
            nested = _expect(document(store, name), dict, name)
            yield from _manifests(store, nested, name, depth + 1, tags + names)
        elif _is_image(descriptor):
            yield descriptor, tags + names


def _is_image(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations") or {}
    if isinstance(annotations, dict) and "vnd.docker.reference.type" in annotations:
        return False  # an attestation manifest, not an image
    plat = descriptor.get("platform") or {}
    return not (isinstance(plat, dict) and plat.get("os") == "unknown")


def _choose(candidates: list[tuple[dict[str, Any], list[str]]]) -> tuple[dict[str, Any], list[str]]:
    """Prefer the manifest for this machine's architecture, else the first one."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    for descriptor, tags in candidates:
        plat = descriptor.get("platform") or {}
        if isinstance(plat, dict) and plat.get("architecture") == machine:
            return descriptor, tags
    return candidates[0]
