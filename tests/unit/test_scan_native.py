"""The scan-only extension modules the frozen binary stores compressed, found and loaded."""

from __future__ import annotations

import importlib.util
import sys
import zlib
from pathlib import Path

import pytest

from injector.scan import native

# A standard-library extension module (CPython's example one) nothing else imports.
MODULE = "xxlimited"


def _packed(tmp_path: Path) -> Path:
    spec = importlib.util.find_spec(MODULE)
    if spec is None or spec.origin is None or not spec.origin.endswith(".so"):
        pytest.skip(f"{MODULE} is not an extension module file here")
    (tmp_path / f"{MODULE}{native.SUFFIX}").write_bytes(
        zlib.compress(Path(spec.origin).read_bytes(), 9)
    )
    return tmp_path


def _load(finder: native.PackedFinder) -> object:
    spec = finder.find_spec(MODULE, None)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packed_module_loads_from_a_memory_file(tmp_path: Path) -> None:
    """The inflated module is loaded from /proc/self/fd (a memfd), nothing written to disk."""
    finder = native.PackedFinder(_packed(tmp_path))
    module = _load(finder)
    assert getattr(module, "__file__", "").startswith("/proc/self/fd/")
    assert module.foo(2, 3) == 5  # type: ignore[attr-defined]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{MODULE}{native.SUFFIX}"]


def test_without_proc_the_module_is_written_beside_its_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No usable /proc: the module is written into the (bundle's) directory and loaded."""
    monkeypatch.setattr(native, "_memfd", lambda _name, _data: None)
    module = _load(native.PackedFinder(_packed(tmp_path)))
    assert Path(getattr(module, "__file__", "")).parent == tmp_path


def test_unknown_module_is_left_to_the_other_finders(tmp_path: Path) -> None:
    """A name without a packed file gets no spec."""
    assert native.PackedFinder(tmp_path).find_spec("zstandard.backend_c", None) is None


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
    (tmp_path / "injector" / "_packed").mkdir(parents=True)
    first = native.install()
    assert first is not None
    assert sys.meta_path[-1] is first
    assert native.install() is first
    assert sum(isinstance(f, native.PackedFinder) for f in sys.meta_path) == 1


def test_install_without_a_packed_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle without injector/_packed (a onefile build) installs nothing."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert native.install() is None
