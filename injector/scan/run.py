"""One scan from start to end: target, layout, layers (parallel, cached), findings."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from injector.scan import blobs, engine, findings, layers, layout, rules
from injector.scan.errors import CorruptArchiveError, TargetMissingError, UsageError
from injector.scan.model import Finding, Image, LayerScan, severity_rank

if TYPE_CHECKING:
    from collections.abc import Mapping

    from injector.scan.cache import Cache
    from injector.scan.detect import Detector
    from injector.scan.policy import Row

PREFIXES = ("docker-archive:", "oci-archive:", "oci:", "dir:")


@dataclass
class Result:
    """What the reports need."""

    target: str
    image: Image
    findings: list[Finding]
    threshold: str
    exit_code: int = 0
    suppressed: int = 0
    policy: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    """How to scan: the detector, the caps, the workers, the cache and the layers to skip."""

    detector: Detector
    limits: layers.Limits
    jobs: int = 2
    cache: Cache | None = None
    skip: frozenset[str] = frozenset()


def open_store(
    target: str, environ: Mapping[str, str], job: Job
) -> tuple[blobs.Store, str, list[str]]:
    """Return the store for *target*, the image id the engine knows (if any) and its tags."""
    kind, _, rest = target.partition(":")
    if target.startswith(("docker-archive:", "oci-archive:")):
        return blobs.TarStore(rest), "", []
    if target.startswith("oci:"):
        return blobs.DirStore(_oci_dir(rest)), "", []
    if not target or kind == "dir":
        raise UsageError("dir: targets are scanned by scan_tree")
    socket_path = engine.socket_path(environ)
    described = engine.inspect(socket_path, target)
    stream = engine.export(socket_path, target)
    with stream:
        store = blobs.StreamStore(stream, job.detector, job.limits)
    tags = [str(t) for t in described.get("RepoTags") or []]
    return store, str(described.get("Id", "")), tags


def _oci_dir(text: str) -> str:
    """``oci:DIR`` or skopeo's ``oci:DIR:REF`` (the reference is not needed to pick)."""
    if os.path.isdir(text) or ":" not in text:
        return text
    return text.rsplit(":", 1)[0]


def scan(target: str, environ: Mapping[str, str], job: Job) -> Image:
    """Read the target and scan every layer (except those of --skip-layers-of)."""
    if target.startswith("dir:"):
        root = target.removeprefix("dir:")
        if not os.path.isdir(root):
            raise TargetMissingError(f"{root}: no such directory")
        return Image({}, [layers.scan_tree(root, job.detector, job.limits)], tags=[target])
    store, image_id, tags = open_store(target, environ, job)
    plan = layout.resolve(store)
    scans = _scan_layers(store, plan.layers, job)
    return Image(
        config=plan.config,
        layers=scans,
        image_id=image_id or plan.config_digest,
        tags=tags or plan.tags,
        layer_digests=[ref.diff_id for ref in plan.layers],
    )


def _scan_layers(store: blobs.Store, refs: list[layout.LayerRef], job: Job) -> list[LayerScan]:
    def one(ref: layout.LayerRef) -> LayerScan:
        if ref.diff_id in job.skip:
            return LayerScan(diff_id=ref.diff_id)
        cached = job.cache.get(ref.diff_id) if job.cache else None
        if cached is not None:
            return cached
        result = store.scan(ref.name, job.detector, job.limits)
        if ref.diff_id and result.diff_id != ref.diff_id:
            raise CorruptArchiveError(f"{ref.name}: content does not match diff_id {ref.diff_id}")
        if job.cache:
            job.cache.put(result)
        return result

    if job.jobs <= 1 or len(refs) <= 1:
        return [one(ref) for ref in refs]
    with ThreadPoolExecutor(max_workers=job.jobs) as pool:
        return list(pool.map(one, refs))


def diff_ids_of(target: str, environ: Mapping[str, str]) -> frozenset[str]:
    """Return the layers of --skip-layers-of TARGET without scanning them."""
    if target.startswith(("docker-archive:", "oci-archive:", "oci:")):
        kind, _, rest = target.partition(":")
        store: blobs.Store = (
            blobs.DirStore(_oci_dir(rest)) if kind == "oci" else blobs.TarStore(rest)
        )
        return frozenset(ref.diff_id for ref in layout.resolve(store).layers)
    described = engine.inspect(engine.socket_path(environ), target)
    rootfs = described.get("RootFS") or {}
    found = rootfs.get("Layers") if isinstance(rootfs, dict) else None
    return frozenset(str(x) for x in found or [])


def collect(image: Image, target: str, job: Job) -> list[Finding]:
    """Every finding of the image, layers first, then the config."""
    extra = {p.rule.id: p.rule for p in job.detector.settings.extra}
    found = findings.from_layers(image, extra) + findings.from_config(image, job.detector, target)
    return [f for f in found if f.rule not in job.detector.settings.disabled]


def exit_code(found: list[Finding], threshold: str | None, policy: list[Row]) -> int:
    """1 when a finding reaches the threshold or the policy says STOP, else 0."""
    stop = bool(policy) and policy[-1].action == "STOP"
    if threshold is None:
        return 1 if stop else 0
    worst = max((severity_rank(f.severity) for f in found), default=-1)
    return 1 if stop or worst >= severity_rank(threshold) else 0


def rules_hash(job_input: str) -> str:
    """Hash everything a layer result depends on besides its content."""
    from importlib import metadata  # noqa: PLC0415

    try:
        library = metadata.version(rules.LIBRARY)
    except metadata.PackageNotFoundError:
        library = "unknown"
    table = repr(
        (rules.PLUGINS, rules.PATTERNS, rules.FILE_RULES, rules.KEYWORDS, rules.ASSIGNMENT)
    )
    return hashlib.sha256(f"{library}|{table}|{job_input}".encode()).hexdigest()
