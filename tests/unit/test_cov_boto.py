"""The botocore stubs refuse every use, and the trimmed-model loader picks the right file."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
import types
from pathlib import Path

import botocore
import botocore.exceptions
import botocore.loaders
import pytest

from injector.backends import boto

NAMES = (*boto.STUBBED, boto.HTTP2, "urllib3.connection")


@pytest.fixture
def fresh_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the stubbed modules from sys.modules for the test; everything is put back after."""
    for name in NAMES:
        monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]
        monkeypatch.delitem(sys.modules, name)


def test_stubs_installed_and_refuse_docs(fresh_modules: None) -> None:
    """With botocore.docs not yet imported, its stand-ins go in and refuse to render."""
    assert boto.install_stubs() == (True, True)
    docstring = sys.modules["botocore.docs.docstring"]
    doc = docstring.LazyLoadedDocstring("ignored", keyword=1)  # type: ignore[attr-defined]
    assert doc == ""
    for render in (str, repr, lambda d: d.expandtabs()):
        with pytest.raises(boto.StubbedOutError):
            render(doc)
    handler = sys.modules["botocore.docs.utils"].AppendParamDocumentation("p", "doc")  # type: ignore[attr-defined]
    with pytest.raises(boto.StubbedOutError):
        handler.append_documentation("event")
    with pytest.raises(AttributeError):
        handler.__wrapped__  # noqa: B018 - dunder lookups are not handlers


def test_http2_stub_refuses(fresh_modules: None) -> None:
    """The urllib3.http2 stand-in keeps the real package path and refuses to switch HTTP/2 on."""
    boto.install_stubs()
    http2 = sys.modules[boto.HTTP2]
    assert http2.__path__[0].endswith("http2")
    for name in ("inject_into_urllib3", "extract_from_urllib3"):
        with pytest.raises(boto.StubbedOutError):
            getattr(http2, name)()


def test_http2_stub_skipped_without_urllib3(
    fresh_modules: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When urllib3 cannot be found, no http2 stand-in is installed."""
    monkeypatch.setattr(importlib.util, "find_spec", lambda _name: None)
    assert boto.install_stubs() == (True, False)
    assert boto.HTTP2 not in sys.modules


def test_real_modules_are_never_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the real modules are imported, nothing is stubbed."""
    for name in NAMES:
        monkeypatch.setitem(sys.modules, name, sys.modules.get(name, object()))  # type: ignore[arg-type]
    assert boto.install_stubs() == (False, False)


def _models(tmp_path: Path, version: str = botocore.__version__) -> Path:
    manifest = {"botocore": version, "services": {"s3": {"api_version": "2006-03-01"}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    model = tmp_path / "s3" / "2006-03-01"
    model.mkdir(parents=True, exist_ok=True)
    (model / "service-2.json").write_text(json.dumps({"marker": "trimmed"}))
    return tmp_path


def test_trimmed_services_need_a_matching_manifest(tmp_path: Path) -> None:
    """No manifest, a broken one, or one for another botocore gives no trimmed services."""
    assert boto.trimmed_services(tmp_path) == {}
    (tmp_path / "manifest.json").write_text("{not json")
    assert boto.trimmed_services(tmp_path) == {}
    _models(tmp_path, version="0.0.0")
    assert boto.trimmed_services(tmp_path) == {}
    _models(tmp_path)
    assert boto.trimmed_services(tmp_path) == {"s3": "2006-03-01"}


def test_session_loads_trimmed_model_else_botocore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trimmed model is read for its service; other versions and types fall back."""
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "extra"))
    session = boto.new_session(_models(tmp_path))
    loader = session.get_component("data_loader")
    assert isinstance(loader, boto.TrimmedLoader)
    assert str(tmp_path / "extra") in loader.search_paths
    assert loader.load_service_model("s3", "service-2") == {"marker": "trimmed"}
    assert loader.load_service_model("s3", "service-2", "2006-03-01") == {"marker": "trimmed"}
    with pytest.raises(botocore.exceptions.DataNotFoundError):
        loader.load_service_model("s3", "service-2", "1999-01-01")
    paginators = loader.load_service_model("s3", "paginators-1")
    assert "pagination" in paginators
    (tmp_path / "s3" / "2006-03-01" / "service-2.json").unlink()
    sts = loader.load_service_model("sts", "service-2")
    assert sts["metadata"]["endpointPrefix"] == "sts"


def test_missing_trimmed_file_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listed service whose file is missing is loaded from botocore's own data."""
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    models = _models(tmp_path)
    (models / "s3" / "2006-03-01" / "service-2.json").unlink()
    loader = boto.new_session(models).get_component("data_loader")
    assert loader.load_service_model("s3", "service-2")["metadata"]["endpointPrefix"] == "s3"


def test_session_without_trimmed_models_is_stock(tmp_path: Path) -> None:
    """Without fitting models the session keeps botocore's own loader."""
    loader = boto.new_session(tmp_path).get_component("data_loader")
    assert not isinstance(loader, boto.TrimmedLoader)


def _hidden_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide botocore's own data directory, as the frozen binary has none."""
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    monkeypatch.setattr(botocore.loaders.Loader, "BUILTIN_DATA_PATH", str(tmp_path / "absent"))


def _embedded_loader(tmp_path: Path, data: dict[str, str | bytes]) -> boto.TrimmedLoader:
    module = types.ModuleType("embedded_under_test")
    module.BOTOCORE = botocore.__version__  # type: ignore[attr-defined]
    (tmp_path / "models").mkdir()
    models = _models(tmp_path / "models")
    module.MODELS = {  # type: ignore[attr-defined]
        p.relative_to(models).as_posix(): p.read_text() for p in models.rglob("*.json")
    }
    module.BOTOCORE_DATA = data  # type: ignore[attr-defined]
    loader = boto.new_session(module).get_component("data_loader")
    assert isinstance(loader, boto.TrimmedLoader)
    return loader


def test_embedded_data_serves_what_the_search_paths_lack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded files (text or gzip bytes) are listed and loaded; a missing name still raises."""
    _hidden_builtin(tmp_path, monkeypatch)
    model = {"metadata": {"endpointPrefix": "sts"}, "operations": {}, "shapes": {}}
    loader = _embedded_loader(
        tmp_path,
        {
            "_retry": json.dumps({"retry": {}}),
            "sts/2011-06-15/service-2": gzip.compress(json.dumps(model).encode()),
        },
    )
    assert loader.list_available_services("service-2") == ["sts"]
    assert loader.list_api_versions("sts", "service-2") == ["2011-06-15"]
    assert loader.determine_latest_version("sts", "service-2") == "2011-06-15"
    assert loader.load_service_model("sts", "service-2") == model
    data, path = loader.load_data_with_path("_retry")
    assert data == {"retry": {}}
    assert loader.is_builtin_path(path)
    assert loader.load_service_model("s3", "service-2") == {"marker": "trimmed"}
    with pytest.raises(botocore.exceptions.DataNotFoundError):
        loader.load_data("partitions")
    with pytest.raises(botocore.exceptions.DataNotFoundError):
        loader.list_api_versions("sso", "service-2")


def test_search_paths_win_over_embedded_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model in ~/.aws/models or AWS_DATA_PATH is found first, as before botocore's own."""
    _hidden_builtin(tmp_path, monkeypatch)
    mine = tmp_path / "mine" / "sts" / "2011-06-15"
    mine.mkdir(parents=True)
    (mine / "service-2.json").write_text(json.dumps({"marker": "mine"}))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "mine"))
    loader = _embedded_loader(tmp_path, {"sts/2011-06-15/service-2": json.dumps({"x": 1})})
    assert loader.load_service_model("sts", "service-2") == {"marker": "mine"}


def test_embedded_module_of_another_botocore_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build's module made from another botocore version is not used."""
    module = types.ModuleType("stale_embedded")
    module.BOTOCORE = "0.0.1"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stale_embedded", module)
    assert boto.embedded("stale_embedded") is None
    assert boto.embedded("no_such_module_here") is None
