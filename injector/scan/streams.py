"""Byte streams: peeking, bounded views into a file, hashing, and transparent decompression.

Layers arrive as tar, tar+gzip or tar+zstd; the compression is sniffed from the first
bytes, never trusted from a media type. Nothing is written to disk.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from typing import IO, TYPE_CHECKING, cast

from injector.scan.errors import CorruptArchiveError

if TYPE_CHECKING:
    from collections.abc import Callable

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 20


class Peekable(io.RawIOBase):
    """A read-only stream whose first bytes can be looked at without consuming them."""

    def __init__(self, raw: IO[bytes]) -> None:
        """Wrap *raw*."""
        super().__init__()
        self._raw = raw
        self._head = b""

    def peek(self, size: int) -> bytes:
        """Return up to *size* leading bytes, keeping them for the next read."""
        while len(self._head) < size:
            more = self._raw.read(size - len(self._head))
            if not more:
                break
            self._head += more
        return self._head[:size]

    def readable(self) -> bool:
        """Tell io that this stream reads."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill *buffer* from the peeked bytes first, then from the stream."""
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Window(io.RawIOBase):
    """*size* bytes of a file descriptor starting at *offset* (pread: threads share no seek)."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        """View ``[offset, offset + size)`` of *fd*."""
        super().__init__()
        self._fd, self._pos, self._end = fd, offset, offset + size

    def readable(self) -> bool:
        """Tell io that this stream reads."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Read the next bytes of the window."""
        count = min(len(buffer), self._end - self._pos)
        if count <= 0:
            return 0
        data = os.pread(self._fd, count, self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


class Counting(io.RawIOBase):
    """Hash and count what passes through; refuse more than *limit* bytes."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        """Wrap *raw*; *name* names the member in errors."""
        super().__init__()
        self._raw, self._limit, self._name = raw, limit, name
        self.sha256 = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        """Tell io that this stream reads."""
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Read, hash and count."""
        data = self._raw.read(len(buffer))
        self.count += len(data)
        if self.count > self._limit:
            raise CorruptArchiveError(f"{self._name}: layer is above {self._limit} bytes")
        self.sha256.update(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> str:
        """Read to the end and return ``sha256:<hex>`` of everything read."""
        while self.read(CHUNK):
            pass
        return "sha256:" + self.sha256.hexdigest()


def _zstd(raw: IO[bytes]) -> IO[bytes]:
    import zstandard  # noqa: PLC0415 - only layers compressed with zstd need it

    reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return reader


def decompressed(raw: IO[bytes]) -> IO[bytes]:
    """Return *raw* decompressed according to its magic bytes (gzip, zstd, or as is)."""
    head = Peekable(raw)
    magic = head.peek(4)
    opener: Callable[[IO[bytes]], IO[bytes]] | None = None
    if magic.startswith(GZIP_MAGIC):
        opener = _gzip
    elif magic.startswith(ZSTD_MAGIC):
        opener = _zstd
    buffered = io.BufferedReader(head, CHUNK)
    return opener(buffered) if opener else buffered


def _gzip(raw: IO[bytes]) -> IO[bytes]:
    return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))


def kind_of(head: bytes) -> str:
    """Classify a blob by its first 512 bytes: tar, gzip, zstd, json or other."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if len(head) >= 262 and head[257:262] == b"ustar":  # noqa: PLR2004 - tar header layout
        return "tar"
    if head.lstrip()[:1] in {b"{", b"["}:
        return "json"
    return "other"
