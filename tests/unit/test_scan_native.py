"""The scan-only extension modules the frozen binary keeps in its module archive, loaded."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from injector.scan import native

# A standard-library extension module (CPython's example one) nothing else imports.
MODULE = "xxlimited"


def _module_bytes() -> bytes:
    spec = importlib.util.find_spec(MODULE)
    if spec is None or spec.origin is None or not spec.origin.endswith(".so"):
        pytest.skip(f"{MODULE} is not an extension module file here")
    return Path(spec.origin).read_bytes()


def _finder(directory: Path) -> native.PackedFinder:
    data = _module_bytes()
    return native.PackedFinder([MODULE], lambda name: data if name == MODULE else None, directory)


def _load(finder: native.PackedFinder) -> object:
    spec = finder.find_spec(MODULE, None)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generated_package(monkeypatch: pytest.MonkeyPatch, data: bytes | None) -> None:
    """Put an injector._packed as the spec generates it into sys.modules (DATA = *data*)."""
    package = types.ModuleType(native.PACKAGE)
    package.__path__ = []
    package.MODULES = (MODULE,)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, native.PACKAGE, package)
    if data is not None:
        holder = types.ModuleType(native.packed_name(MODULE))
        holder.DATA = data  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, native.packed_name(MODULE), holder)


def test_packed_module_loads_from_a_memory_file(tmp_path: Path) -> None:
    """The module is loaded from /proc/self/fd (a memfd), nothing written to disk."""
    module = _load(_finder(tmp_path))
    assert getattr(module, "__file__", "").startswith("/proc/self/fd/")
    assert module.foo(2, 3) == 5  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []


def test_without_proc_the_module_is_written_into_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No usable /proc: the module is written into the bundle's directory and loaded."""
    monkeypatch.setattr(native, "_memfd", lambda _name, _data: None)
    module = _load(_finder(tmp_path))
    assert Path(getattr(module, "__file__", "")).parent == tmp_path


def test_other_names_are_left_to_the_other_finders(tmp_path: Path) -> None:
    """A name that is not packed, or whose bytes are missing, gets no spec (nothing read)."""
    read: list[str] = []
    finder = native.PackedFinder(["zstandard.backend_c"], read.append, tmp_path)
    assert finder.find_spec("brotli", None) is None
    assert read == []
    assert finder.find_spec("zstandard.backend_c", None) is None
    assert read == ["zstandard.backend_c"]


def test_from_archive_reads_the_generated_module_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bytes come from injector._packed.<name>, which is then dropped from sys.modules."""
    _generated_package(monkeypatch, b"\x7fELF...")
    assert native.packed_name("zstandard.backend_c") == "injector._packed.zstandard_backend_c"
    assert native.from_archive(MODULE) == b"\x7fELF..."
    assert native.packed_name(MODULE) not in sys.modules
    assert native.from_archive("not_packed") is None
    monkeypatch.setitem(sys.modules, native.packed_name("empty"), types.ModuleType("empty"))
    assert native.from_archive("empty") is None  # a module without DATA bytes


def test_install_is_a_no_op_unless_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unfrozen (python -m injector), nothing is appended to sys.meta_path."""
    monkeypatch.delattr(sys, "frozen", raising=False)
    before = list(sys.meta_path)
    assert native.install() is None
    assert sys.meta_path == before


def test_install_appends_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frozen, the finder goes last in sys.meta_path (after the bundle's own), once."""
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    _generated_package(monkeypatch, _module_bytes())
    first = native.install()
    assert first is not None
    assert first.names == {MODULE}
    assert first.directory == tmp_path
    assert sys.meta_path[-1] is first
    assert native.install() is first
    assert sum(isinstance(f, native.PackedFinder) for f in sys.meta_path) == 1


def test_install_without_the_generated_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle without injector._packed (a onefile build) installs nothing."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setitem(sys.modules, native.PACKAGE, None)
    assert native.install() is None
