"""Extension modules only ``injector scan`` imports, kept zlib-compressed in the binary.

The frozen binary carries its extension modules as plain files that the launcher writes
at every start. The ones only a scan imports (zstandard's C backend, pyahocorasick,
charset_normalizer's compiled helpers) are instead stored compressed as
``injector/_packed/<module>.so.z`` (packaging/injector.spec): ~1 MB less to carry and
write per start. Imported on demand, each is inflated into an anonymous memory file
(``memfd_create``) and loaded from there; without a usable ``/proc`` it is written into
the bundle's own temporary directory instead.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

SUFFIX = ".so.z"


class _Loader(importlib.machinery.ExtensionFileLoader):
    """Load an inflated extension module, then close its memory file."""

    def __init__(self, fullname: str, path: str, fd: int | None) -> None:
        super().__init__(fullname, path)
        self._fd = fd

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        """Load the module; its file descriptor is no longer needed once mapped."""
        try:
            return super().create_module(spec)
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _memfd(fullname: str, data: bytes) -> tuple[str, int] | None:
    if not Path("/proc/self/fd").is_dir():
        return None
    fd = os.memfd_create(fullname, os.MFD_CLOEXEC)
    try:
        _write_all(fd, data)
    except BaseException:
        os.close(fd)
        raise
    return f"/proc/self/fd/{fd}", fd


def _bundle_file(blob: Path, fullname: str, data: bytes) -> str:
    path = blob.with_name(fullname + importlib.machinery.EXTENSION_SUFFIXES[0])
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o500)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)
    return str(path)


class PackedFinder(importlib.abc.MetaPathFinder):
    """Find the compressed extension modules in one directory."""

    def __init__(self, directory: Path) -> None:
        """Serve the ``<module>.so.z`` files of *directory*."""
        self.directory = directory

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,  # noqa: ARG002 - the MetaPathFinder protocol
        target: ModuleType | None = None,  # noqa: ARG002
    ) -> ModuleSpec | None:
        """Return a spec loading *fullname* from its inflated copy, or None."""
        blob = self.directory / (fullname + SUFFIX)
        if not blob.is_file():
            return None
        data = zlib.decompress(blob.read_bytes())
        where, fd = _memfd(fullname, data) or (_bundle_file(blob, fullname, data), None)
        loader = _Loader(fullname, where, fd)
        return importlib.util.spec_from_file_location(fullname, where, loader=loader)


def install(directory: Path | None = None) -> PackedFinder | None:
    """Append the finder for the frozen binary's packed modules (no-op when not frozen)."""
    if directory is None:
        bundle = getattr(sys, "_MEIPASS", None)
        if not getattr(sys, "frozen", False) or bundle is None:
            return None
        directory = Path(bundle, "injector", "_packed")
    if not directory.is_dir():
        return None
    for finder in sys.meta_path:
        if isinstance(finder, PackedFinder) and finder.directory == directory:
            return finder
    finder = PackedFinder(directory)
    sys.meta_path.append(finder)
    return finder
