"""Walk one layer's tar stream: entries, whiteouts, opaque dirs, hard links, and each file's hits.

Regular files are read in memory up to ``--max-file-size`` and handed to the detector;
symlinks are recorded and never followed, devices ignored, hard links kept as references
to their target. Archives inside the layer (``.tar``, ``.tar.gz``, ``.tgz``) are walked too,
one level deep, with paths of the form ``/outer.tar.gz!/inner``.
"""

from __future__ import annotations

import posixpath
import tarfile
import zlib
from typing import IO, TYPE_CHECKING, NamedTuple

from injector.scan import streams
from injector.scan.errors import CorruptArchiveError
from injector.scan.model import Hit, LayerScan

if TYPE_CHECKING:
    from injector.scan.detect import Detector

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
NESTED_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst")
MAX_LAYER_BYTES = 32 << 30
MAX_ENTRIES = 2_000_000
MAX_NESTED_BYTES = 256 << 20
_ERRORS = (tarfile.TarError, EOFError, zlib.error, ValueError, OSError)


class Limits(NamedTuple):
    """Per-file and per-layer byte caps."""

    max_file: int = 10 << 20
    max_layer: int = MAX_LAYER_BYTES


def normalize(name: str) -> str:
    """Return a member name as an absolute, normalised path (``./a//b`` -> ``/a/b``)."""
    return posixpath.normpath("/" + name.lstrip("/"))


def scan_layer(raw: IO[bytes], detector: Detector, limits: Limits, name: str) -> LayerScan:
    """Stream one layer blob (any compression) and return what it holds."""
    try:
        counting = streams.Counting(streams.decompressed(raw), limits.max_layer, name)
        result = LayerScan()
        with tarfile.open(fileobj=counting, mode="r|") as tar:
            _walk(tar, detector, limits, result)
        result.diff_id = counting.drain()
        result.size = counting.count
    except CorruptArchiveError:
        raise
    except _ERRORS as exc:
        raise CorruptArchiveError(f"{name}: not a readable layer ({_why(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - zstandard.ZstdError and friends: still corrupt
        raise CorruptArchiveError(f"{name}: not a readable layer ({_why(exc)})") from None
    return result


def _why(exc: BaseException) -> str:
    return type(exc).__name__


def _walk(tar: tarfile.TarFile, detector: Detector, limits: Limits, out: LayerScan) -> None:
    for count, member in enumerate(tar, 1):
        if count > MAX_ENTRIES:
            raise CorruptArchiveError(f"more than {MAX_ENTRIES} entries")
        path = normalize(member.name)
        base = posixpath.basename(path)
        if base.startswith(WHITEOUT):
            _whiteout(path, base, out)
            continue
        out.paths.add(path)
        if member.islnk():
            out.links[path] = normalize(member.linkname)
        elif member.isreg():
            handle = tar.extractfile(member)
            data = handle.read(limits.max_file) if handle else b""
            _record(path, data, member.size, (detector, limits), out)


def _whiteout(path: str, base: str, out: LayerScan) -> None:
    parent = posixpath.dirname(path)
    if base == OPAQUE:
        out.opaque.add(parent)
    else:
        out.whiteouts.add(posixpath.join(parent, base[len(WHITEOUT) :]))


def _record(
    path: str, data: bytes, size: int, how: tuple[Detector, Limits], out: LayerScan
) -> None:
    """Run the detector over one file (*data*: at most --max-file-size of its *size* bytes)."""
    detector, limits = how
    if size > limits.max_file:
        out.skipped += 1
    hits = detector.path_hits(path) + detector.content_hits(path, data)
    for pattern in detector.policy_matches(data):
        out.policy.setdefault(pattern, []).append(path)
    if path.endswith(NESTED_SUFFIXES) and size <= MAX_NESTED_BYTES:
        hits.extend(_nested(path, data, detector, limits))
    if hits:
        out.hits[path] = hits


def _nested(path: str, data: bytes, detector: Detector, limits: Limits) -> list[Hit]:
    """Walk an archive found inside a layer; its hits carry ``outer!/inner`` paths."""
    import io  # noqa: PLC0415

    inner = LayerScan()
    try:
        stream = streams.decompressed(io.BytesIO(data))
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            _walk(tar, detector.nested(), limits, inner)
    except Exception:  # noqa: BLE001 - a broken inner archive is just data, not a corrupt image
        return []
    found: list[Hit] = []
    for inner_path, hits in inner.hits.items():
        found.extend(h._replace(path=f"{path}!{inner_path}") for h in hits)
    return found


def scan_tree(root: str, detector: Detector, limits: Limits) -> LayerScan:
    """Walk a root file system (``dir:PATH``) as one layer; symlinks are never followed."""
    import os  # noqa: PLC0415

    out = LayerScan(diff_id="")
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            path = "/" + os.path.relpath(entry.path, root)
            out.paths.add(path)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.is_file(follow_symlinks=False):
                _tree_file(entry.path, path, detector, limits, out)
    return out


def _tree_file(real: str, path: str, detector: Detector, limits: Limits, out: LayerScan) -> None:
    import os  # noqa: PLC0415

    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limits.max_file + 1)
    size = len(data)
    out.size += min(size, limits.max_file)
    _record(path, data[: limits.max_file], size, (detector, limits), out)
