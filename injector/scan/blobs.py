"""Where an image's documents and layers come from: a tar archive, a directory, or a stream.

Every store answers ``exists``, ``read`` (a small document, capped) and ``scan`` (one layer,
streamed through the detector). Archives are indexed once (tar headers only) and each layer
is read through ``pread`` windows, so layers can be scanned in parallel without extracting.
The engine's export is a stream that cannot seek: it is scanned in arrival order as it
comes, keeping the small documents, and the layout is applied afterwards.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
from typing import IO, TYPE_CHECKING, Protocol, cast

from injector.scan import layers, streams
from injector.scan.errors import CorruptArchiveError, TargetMissingError

if TYPE_CHECKING:
    from injector.scan.detect import Detector
    from injector.scan.model import LayerScan

MAX_DOC = 16 << 20
_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, ValueError, UnicodeError)


class Store(Protocol):
    """What the layout reader and the scanner need from a target."""

    def exists(self, name: str) -> bool:
        """Tell whether the store has *name*."""

    def read(self, name: str) -> bytes:
        """Return a small document (at most MAX_DOC bytes)."""

    def scan(self, name: str, detector: Detector, limits: layers.Limits) -> LayerScan:
        """Scan the layer blob *name*."""


def _clean(name: str) -> str:
    return posixpath.normpath(name.lstrip("/")).removeprefix("./")


class TarStore:
    """A ``docker save`` or OCI archive on disk: headers indexed, members read by pread."""

    def __init__(self, path: str) -> None:
        """Index the archive at *path* (reads tar headers only)."""
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise TargetMissingError(f"{path}: no such file") from None
        except OSError as exc:
            raise TargetMissingError(f"{path}: {exc.strerror}") from None
        self._members: dict[str, tuple[int, int]] = {}
        self._links: dict[str, str] = {}
        self._index(path)

    def _index(self, path: str) -> None:
        try:
            with (
                os.fdopen(os.dup(self._fd), "rb") as handle,
                tarfile.open(fileobj=handle, mode="r:") as tar,
            ):
                for member in tar:
                    self._add(member)
        except _TAR_ERRORS as exc:
            raise CorruptArchiveError(f"{path}: not a tar archive ({type(exc).__name__})") from None

    def _add(self, member: tarfile.TarInfo) -> None:
        name = _clean(member.name)
        if member.isreg():
            self._members[name] = (member.offset_data, member.size)
        elif member.issym() or member.islnk():
            target = member.linkname
            if member.issym():
                target = posixpath.join(posixpath.dirname(name), target)
            self._links[name] = _clean(target)

    def _resolve(self, name: str) -> tuple[int, int]:
        name = _clean(name)
        for _ in range(8):
            if name in self._members:
                return self._members[name]
            if name not in self._links:
                break
            name = self._links[name]
        raise CorruptArchiveError(f"{name}: missing from the archive")

    def exists(self, name: str) -> bool:
        """Tell whether the archive has *name*."""
        return _clean(name) in self._members or _clean(name) in self._links

    def read(self, name: str) -> bytes:
        """Return the member *name* (capped)."""
        offset, size = self._resolve(name)
        if size > MAX_DOC:
            raise CorruptArchiveError(f"{name}: document above {MAX_DOC} bytes")
        return os.pread(self._fd, size, offset)

    def scan(self, name: str, detector: Detector, limits: layers.Limits) -> LayerScan:
        """Stream the layer member *name* through the detector."""
        offset, size = self._resolve(name)
        window = cast("IO[bytes]", streams.Window(self._fd, offset, size))
        return layers.scan_layer(window, detector, limits, name)


class DirStore:
    """An OCI image layout directory (``oci:DIR``)."""

    def __init__(self, root: str) -> None:
        """Use the layout at *root*."""
        if not os.path.isdir(root):
            raise TargetMissingError(f"{root}: no such directory")
        self._root = root

    def _path(self, name: str) -> str:
        clean = _clean(name)
        if clean.startswith("..") or os.path.isabs(clean):
            raise CorruptArchiveError(f"{name}: path leaves the layout")
        return os.path.join(self._root, clean)

    def exists(self, name: str) -> bool:
        """Tell whether the layout has *name*."""
        return os.path.isfile(self._path(name))

    def read(self, name: str) -> bytes:
        """Return the file *name* (capped)."""
        try:
            with open(self._path(name), "rb") as handle:
                data = handle.read(MAX_DOC + 1)
        except OSError:
            raise CorruptArchiveError(f"{name}: missing from the layout") from None
        if len(data) > MAX_DOC:
            raise CorruptArchiveError(f"{name}: document above {MAX_DOC} bytes")
        return data

    def scan(self, name: str, detector: Detector, limits: layers.Limits) -> LayerScan:
        """Stream the blob *name* through the detector."""
        try:
            handle: IO[bytes] = open(self._path(name), "rb")  # noqa: SIM115 - closed below
        except OSError:
            raise CorruptArchiveError(f"{name}: missing from the layout") from None
        with handle:
            return layers.scan_layer(handle, detector, limits, name)


class StreamStore:
    """A non-seekable export (the engine's ``/images/{name}/get``), consumed once up front."""

    def __init__(self, raw: IO[bytes], detector: Detector, limits: layers.Limits) -> None:
        """Read the whole stream: scan layer blobs as they pass, keep small documents."""
        self._docs: dict[str, bytes] = {}
        self._scans: dict[str, LayerScan] = {}
        self._links: dict[str, str] = {}
        try:
            with tarfile.open(fileobj=raw, mode="r|") as tar:
                for member in tar:
                    self._take(tar, member, detector, limits)
        except CorruptArchiveError:
            raise
        except _TAR_ERRORS as exc:
            raise CorruptArchiveError(
                f"image export: not a tar stream ({type(exc).__name__})"
            ) from None

    def _take(
        self,
        tar: tarfile.TarFile,
        member: tarfile.TarInfo,
        detector: Detector,
        limits: layers.Limits,
    ) -> None:
        name = _clean(member.name)
        if member.issym():
            self._links[name] = _clean(posixpath.join(posixpath.dirname(name), member.linkname))
            return
        if member.islnk():
            self._links[name] = _clean(member.linkname)
            return
        handle = tar.extractfile(member) if member.isreg() else None
        if handle is None:
            return
        head = streams.Peekable(handle)
        kind = streams.kind_of(head.peek(512))
        if kind in {"tar", "gzip", "zstd"}:
            self._scans[name] = layers.scan_layer(head, detector, limits, name)  # type: ignore[arg-type]
        elif member.size <= MAX_DOC:
            self._docs[name] = head.read()

    def _resolve(self, name: str) -> str:
        name = _clean(name)
        for _ in range(8):
            if name in self._docs or name in self._scans or name not in self._links:
                return name
            name = self._links[name]
        return name

    def exists(self, name: str) -> bool:
        """Tell whether the export had *name*."""
        name = self._resolve(name)
        return name in self._docs or name in self._scans

    def read(self, name: str) -> bytes:
        """Return a document kept from the stream."""
        name = self._resolve(name)
        if name not in self._docs:
            raise CorruptArchiveError(f"{name}: missing from the image export")
        return self._docs[name]

    def scan(self, name: str, detector: Detector, limits: layers.Limits) -> LayerScan:
        """Return the layer scanned while streaming (or scan a small one kept in memory)."""
        import io  # noqa: PLC0415

        name = self._resolve(name)
        if name in self._scans:
            return self._scans[name]
        if name in self._docs:
            return layers.scan_layer(io.BytesIO(self._docs[name]), detector, limits, name)
        raise CorruptArchiveError(f"{name}: missing from the image export")
