"""Hypothesis-fuzzed archives and JSON documents: the scan exits 65 or 66, never a traceback."""

from __future__ import annotations

import io
import json
import tarfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from injector.errors import InjectorError
from injector.scan import blobs, layers, layout
from injector.scan.detect import Detector
from injector.scan.settings import Settings

DETECTOR = Detector(Settings())
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _archive(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _scan_bytes(data: bytes, tmp_path) -> None:
    path = tmp_path / "fuzz.tar"
    path.write_bytes(data)
    try:
        store = blobs.TarStore(str(path))
        plan = layout.resolve(store)
        for ref in plan.layers:
            store.scan(ref.name, DETECTOR, layers.Limits())
    except InjectorError as exc:
        code = exc.exit_code
    else:
        code = 0
    assert code in {0, 65, 66}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=4096))
def test_random_bytes(tmp_path, data) -> None:
    """Random bytes as an archive: 65 or 66, no other exception."""
    _scan_bytes(data, tmp_path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(JSON, JSON, st.binary(max_size=2048))
def test_random_documents(tmp_path, manifest, config, layer) -> None:
    """Random manifest.json, config and layer bytes inside a real tar: 65 or 66 only."""
    members = {
        "manifest.json": json.dumps(manifest).encode(),
        "c.json": json.dumps(config).encode(),
        "l/layer.tar": layer,
    }
    if isinstance(manifest, list) and manifest and isinstance(manifest[0], dict):
        manifest[0].update({"Config": "c.json", "Layers": ["l/layer.tar"]})
        members["manifest.json"] = json.dumps(manifest).encode()
    _scan_bytes(_archive(members), tmp_path)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(JSON)
def test_random_oci_index(tmp_path, index) -> None:
    """A random index.json: 65 only."""
    _scan_bytes(_archive({"index.json": json.dumps(index).encode()}), tmp_path)
