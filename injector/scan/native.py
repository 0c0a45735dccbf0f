"""Extension modules only ``injector scan`` imports, kept inside the binary's module archive.

The frozen binary carries its extension modules as plain files that the launcher writes
at every start. The ones only a scan imports (zstandard's C backend, pyahocorasick,
charset_normalizer's compiled helpers) are instead generated modules of the package
``injector._packed`` (packaging/injector.spec), each holding one stripped module's bytes
in ``DATA``: they stay in the PYZ, compressed and read in place from the binary, so no
file and no directory is written for them per start. Imported on demand, each is copied
into an anonymous memory file (``memfd_create``) and loaded from there; without a usable
``/proc`` it is written into the bundle's own temporary directory instead.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

PACKAGE = "injector._packed"  # generated at build time, in the frozen binary only


def packed_name(fullname: str) -> str:
    """Return the generated module that holds extension module *fullname*'s bytes."""
    return f"{PACKAGE}.{fullname.replace('.', '_')}"


class _Loader(importlib.machinery.ExtensionFileLoader):
    """Load an extension module from its copy, then close its memory file."""

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


def _bundle_file(directory: Path, fullname: str, data: bytes) -> str:
    path = directory / (fullname + importlib.machinery.EXTENSION_SUFFIXES[0])
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o500)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)
    return str(path)


def from_archive(fullname: str) -> bytes | None:
    """Return the bytes the generated module of *fullname* holds (None: there is none)."""
    name = packed_name(fullname)
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    sys.modules.pop(name, None)  # read once: the module is loaded from its copy from now on
    data = getattr(module, "DATA", None)
    return data if isinstance(data, bytes) else None


class PackedFinder(importlib.abc.MetaPathFinder):
    """Find the packed extension modules *names*, whose bytes *read* returns."""

    def __init__(
        self, names: Collection[str], read: Callable[[str], bytes | None], directory: Path
    ) -> None:
        """Serve *names*; *directory* takes a module's copy when there is no /proc."""
        self.names = frozenset(names)
        self.read = read
        self.directory = directory

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,  # noqa: ARG002 - the MetaPathFinder protocol
        target: ModuleType | None = None,  # noqa: ARG002
    ) -> ModuleSpec | None:
        """Return a spec loading *fullname* from its copy, or None."""
        if fullname not in self.names:
            return None
        data = self.read(fullname)
        if data is None:
            return None
        where, fd = _memfd(fullname, data) or (_bundle_file(self.directory, fullname, data), None)
        loader = _Loader(fullname, where, fd)
        return importlib.util.spec_from_file_location(fullname, where, loader=loader)


def install() -> PackedFinder | None:
    """Append the finder for the frozen binary's packed modules (no-op when not frozen)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or bundle is None:
        return None
    for finder in sys.meta_path:
        if isinstance(finder, PackedFinder):
            return finder
    try:
        names = importlib.import_module(PACKAGE).MODULES
    except (ImportError, AttributeError):
        return None
    finder = PackedFinder(names, from_archive, Path(bundle))
    sys.meta_path.append(finder)
    return finder
