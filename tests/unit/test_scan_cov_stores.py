"""Unit tests of the scan's stores, layout reader, streams and layer walker on synthetic bytes."""

from __future__ import annotations

import io
import json
import os
import platform
import tarfile

import pytest

from injector.scan import blobs, layers, layout, streams
from injector.scan.detect import Detector
from injector.scan.errors import CorruptArchiveError, TargetMissingError
from injector.scan.settings import Settings
from tests.support import scan_images as si

LIMITS = layers.Limits()


@pytest.fixture(scope="module")
def detector():
    """One detector with default settings."""
    return Detector(Settings())


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    """Return a tar of regular files (name, data) and ready-made entries (links, dirs)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return out.getvalue()


def _v7(data: bytes) -> bytes:
    """Blank the ustar magic of the first header (a valid pre-POSIX tar kind_of cannot tell)."""
    header = bytearray(data[:512])
    header[257:265] = b"\0" * 8
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data[512:]


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


class _Store:
    """A Store over a dict of documents (layout tests need no archive)."""

    def __init__(self, docs: dict[str, object]) -> None:
        self.docs = {
            k: v if isinstance(v, bytes) else json.dumps(v).encode() for k, v in docs.items()
        }

    def exists(self, name: str) -> bool:
        return name in self.docs

    def read(self, name: str) -> bytes:
        return self.docs[name]

    def scan(self, name, detector, limits):  # pragma: no cover - layout never scans
        raise NotImplementedError(name)


# --- TarStore ---------------------------------------------------------------------------


def test_tar_store_missing_file_is_66(tmp_path) -> None:
    """A docker-archive: that does not exist is a missing target."""
    with pytest.raises(TargetMissingError, match="no such file"):
        blobs.TarStore(str(tmp_path / "absent.tar"))


def test_tar_store_path_through_a_file_is_66(tmp_path) -> None:
    """A path whose parent is a file (ENOTDIR) is a missing target naming the cause."""
    (tmp_path / "f").write_text("")
    with pytest.raises(TargetMissingError, match="Not a directory"):
        blobs.TarStore(str(tmp_path / "f" / "a.tar"))


def test_tar_store_follows_links_and_names_missing_members(tmp_path) -> None:
    """Symlinked and hard-linked members resolve to their target; a dangling one is 65."""
    data = _tar(
        [
            ("blobs/sha256/x", b"payload"),
            _link("manifest.json", "blobs/sha256/x"),
            _link("hard.json", "blobs/sha256/x", tarfile.LNKTYPE),
            _link("dangling", "nowhere"),
        ]
    )
    path = tmp_path / "a.tar"
    path.write_bytes(data)
    store = blobs.TarStore(str(path))
    assert store.read("manifest.json") == b"payload"
    assert store.read("./hard.json") == b"payload"
    assert store.exists("dangling")
    with pytest.raises(CorruptArchiveError, match="nowhere: missing from the archive"):
        store.read("dangling")


def test_tar_store_refuses_a_huge_document(tmp_path) -> None:
    """A document member above the cap is 65 naming it (its data is never read)."""
    info = tarfile.TarInfo("manifest.json")
    info.size = blobs.MAX_DOC + 1
    path = tmp_path / "a.tar"
    header = info.tobuf(tarfile.PAX_FORMAT)
    with path.open("wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + blobs.MAX_DOC + 1 + 2048)  # sparse: data and end blocks
    store = blobs.TarStore(str(path))
    with pytest.raises(CorruptArchiveError, match=r"manifest.json: document above"):
        store.read("manifest.json")


# --- DirStore ---------------------------------------------------------------------------


def test_dir_store_errors(tmp_path) -> None:
    """A missing layout is 66; escaping, missing and oversized documents are 65 naming them."""
    with pytest.raises(TargetMissingError):
        blobs.DirStore(str(tmp_path / "absent"))
    store = blobs.DirStore(str(tmp_path))
    with pytest.raises(CorruptArchiveError, match="leaves the layout"):
        store.read("../etc/passwd")
    with pytest.raises(CorruptArchiveError, match=r"index.json: missing from the layout"):
        store.read("index.json")
    with pytest.raises(CorruptArchiveError, match="blobs/sha256/x: missing from the layout"):
        store.scan("blobs/sha256/x", None, LIMITS)  # type: ignore[arg-type]
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(blobs.MAX_DOC + 1)
    with pytest.raises(CorruptArchiveError, match=r"big.json: document above"):
        store.read("big.json")


# --- StreamStore ------------------------------------------------------------------------


def test_stream_store_keeps_documents_links_and_layers(detector) -> None:
    """An export keeps small documents, follows links, scans layers and skips directories."""
    layer = si.Layer({"/app/.git-credentials": b"https://u:p@example.com\n"}).tar()
    small_layer = _v7(_tar([("/etc/hostname", b"box\n")]))  # no magic: kept as a document
    data = _tar(
        [
            _dir("abc"),
            ("abc/layer.tar", layer),
            ("manifest.json", b"[]"),
            ("small", small_layer),
            _link("sym.json", "manifest.json"),
            _link("hard.tar", "abc/layer.tar", tarfile.LNKTYPE),
        ]
    )
    store = blobs.StreamStore(io.BytesIO(data), detector, LIMITS)
    assert store.exists("sym.json")
    assert store.read("sym.json") == b"[]"
    assert "/app/.git-credentials" in store.scan("hard.tar", detector, LIMITS).hits
    assert not store.exists("abc")
    assert store.scan("small", detector, LIMITS).paths == {"/etc/hostname"}
    with pytest.raises(CorruptArchiveError, match=r"abc/layer.tar: missing from the image export"):
        store.read("abc/layer.tar")
    with pytest.raises(CorruptArchiveError, match="nope: missing from the image export"):
        store.scan("nope", detector, LIMITS)


def test_stream_store_not_a_tar_is_65(detector) -> None:
    """An export that is not a tar stream is 65."""
    with pytest.raises(CorruptArchiveError, match="image export: not a tar stream"):
        blobs.StreamStore(io.BytesIO(b"\x00garbage" * 100), detector, LIMITS)


def test_stream_store_corrupt_layer_names_it(detector) -> None:
    """A corrupt layer inside an export is 65 naming that member."""
    data = _tar([("abc/layer.tar", b"\x1f\x8b" + b"\x00" * 600)])
    with pytest.raises(CorruptArchiveError, match=r"abc/layer.tar: not a readable layer"):
        blobs.StreamStore(io.BytesIO(data), detector, LIMITS)


# --- layout -----------------------------------------------------------------------------

CONFIG = {"rootfs": {"diff_ids": ["sha256:" + "0" * 64]}}
HEX = "1" * 64


def _oci(index: dict[str, object], **blobs_: object) -> _Store:
    docs: dict[str, object] = {"index.json": index}
    docs.update({f"blobs/sha256/{k}": v for k, v in blobs_.items()})
    return _Store(docs)


def _manifest_descriptor(hex_: str, **extra: object) -> dict[str, object]:
    return {"mediaType": si.OCI_MANIFEST, "digest": f"sha256:{hex_}", **extra}


MANIFEST = {
    "config": {"digest": "sha256:" + "c" * 64},
    "layers": [{"digest": "sha256:" + "d" * 64}],
}


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        ({}, "neither manifest.json nor index.json"),
        ({"manifest.json": b"\xff{"}, "manifest.json: not valid JSON"),
        ({"manifest.json": {}}, "manifest.json: expected a JSON list"),
        ({"manifest.json": []}, "no image in it"),
        ({"manifest.json": [{"Config": "c", "Layers": ["l"]}], "c": {"rootfs": {}}}, "0 diff_ids"),
        ({"index.json": {"manifests": []}}, "index.json: no image manifest"),
        ({"index.json": {"manifests": [_manifest_descriptor("../x")]}}, "bad digest"),
    ],
)
def test_layout_errors_name_the_document(docs, message) -> None:
    """Each malformed layout document is 65 with a message naming it."""
    with pytest.raises(CorruptArchiveError, match=message):
        layout.resolve(_Store(docs))


def test_layout_refuses_indexes_nested_too_deep() -> None:
    """An index that points at itself is refused after MAX_DEPTH levels."""
    loop = {"manifests": [{"mediaType": layout.INDEX_TYPES[0], "digest": f"sha256:{HEX}"}]}
    with pytest.raises(CorruptArchiveError, match="nested more than"):
        layout.resolve(_oci(loop, **{HEX: loop}))


def test_layout_skips_attestations_and_prefers_this_machine() -> None:
    """Attestation and unknown-platform manifests are skipped; this architecture is chosen."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    attestation = {"vnd.docker.reference.type": "attestation-manifest"}
    index = {
        "manifests": [
            _manifest_descriptor("a" * 64, annotations=attestation),
            _manifest_descriptor("b" * 64, platform={"os": "unknown"}),
            _manifest_descriptor("e" * 64, platform={"architecture": "other"}),
            _manifest_descriptor(
                "f" * 64,
                platform={"architecture": machine},
                annotations={"org.opencontainers.image.ref.name": "v1"},
            ),
        ]
    }
    store = _oci(index, **{"f" * 64: MANIFEST, "c" * 64: CONFIG})
    plan = layout.resolve(store)
    assert plan.tags == ["v1"]
    assert plan.layers == [
        layout.LayerRef("blobs/sha256/" + "d" * 64, CONFIG["rootfs"]["diff_ids"][0])
    ]  # type: ignore[index]


def test_layout_falls_back_to_the_first_manifest() -> None:
    """Without a manifest for this architecture the first image manifest is used."""
    index = {"manifests": [_manifest_descriptor("e" * 64, platform={"architecture": "none"})]}
    plan = layout.resolve(_oci(index, **{"e" * 64: MANIFEST, "c" * 64: CONFIG}))
    assert len(plan.layers) == 1


# --- streams and layers -----------------------------------------------------------------


def test_window_reads_only_its_range(tmp_path) -> None:
    """A Window returns exactly its byte range, then end of file."""
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDONLY)
    try:
        window = streams.Window(fd, 2, 5)
        assert window.read() == b"23456"
        assert window.read(1) == b""
    finally:
        os.close(fd)


def test_counting_refuses_more_than_its_limit() -> None:
    """A layer above the byte cap is 65 naming it."""
    counting = streams.Counting(io.BytesIO(b"x" * 100), 10, "big-layer")
    with pytest.raises(CorruptArchiveError, match="big-layer: layer is above 10 bytes"):
        counting.drain()


def test_kind_of_classifies_blobs() -> None:
    """Blobs are classified by magic bytes, tar header, JSON start, else other."""
    assert streams.kind_of(b"\x1f\x8b...") == "gzip"
    assert streams.kind_of(streams.ZSTD_MAGIC) == "zstd"
    assert streams.kind_of(_tar([("a", b"")])[:512]) == "tar"
    assert streams.kind_of(b"  {") == "json"
    assert streams.kind_of(b"hello") == "other"


def test_peekable_serves_peeked_bytes_first() -> None:
    """Peeked bytes are returned by the next reads, then the rest of the stream."""
    head = streams.Peekable(io.BytesIO(b"abcdef"))
    assert head.peek(100) == b"abcdef"
    assert head.read(2) == b"ab"
    assert head.read() == b"cdef"


def test_layer_above_max_layer_bytes_is_65(detector) -> None:
    """A layer larger than --max-layer is 65 naming the member."""
    data = si.Layer({"/a": b"x" * 4096}).tar()
    with pytest.raises(CorruptArchiveError, match="L: layer is above"):
        layers.scan_layer(io.BytesIO(data), detector, layers.Limits(max_layer=1024), "L")


def test_layer_with_zstd_garbage_is_65(detector) -> None:
    """A zstd magic followed by garbage is 65, not a traceback."""
    with pytest.raises(CorruptArchiveError, match="L: not a readable layer"):
        layers.scan_layer(io.BytesIO(streams.ZSTD_MAGIC + b"\xff" * 64), detector, LIMITS, "L")


def test_layer_counts_truncated_files_and_ignores_broken_nested_archives(detector) -> None:
    """A file above --max-file-size is counted; a broken inner archive is just data."""
    data = si.Layer({"/big": b"y" * 300, "/x.tar.gz": b"\x1f\x8bnot gzip"}).tar()
    result = layers.scan_layer(io.BytesIO(data), detector, layers.Limits(max_file=100), "L")
    assert result.skipped == 1
    assert "/x.tar.gz" not in result.hits


def test_scan_tree_skips_unreadable_entries(tmp_path, detector) -> None:
    """dir: records symlinks without following them and skips what it cannot open."""
    (tmp_path / "ok").write_text("plain\n")
    os.symlink("/etc/shadow", tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    result = layers.scan_tree(str(tmp_path), detector, LIMITS)
    assert {"/ok", "/link", "/fifo"} <= result.paths
    assert result.size == len("plain\n")


def test_streams_are_readable_and_counting_drains() -> None:
    """Window and Counting say they read; drain() hashes everything left."""
    counting = streams.Counting(io.BytesIO(b"abc"), 10, "n")
    assert counting.readable()
    assert streams.Window(0, 0, 0).readable()
    assert counting.drain() == si.digest(b"abc")
    assert counting.count == len(b"abc")


def test_link_cycles_end_as_missing_members(tmp_path, detector) -> None:
    """A cycle of links is a missing member (65) in an archive and in an export."""
    members = [_dir("d"), _link("a", "b"), _link("b", "a")]
    path = tmp_path / "a.tar"
    path.write_bytes(_tar(members))
    with pytest.raises(CorruptArchiveError, match="missing from the archive"):
        blobs.TarStore(str(path)).read("a")
    store = blobs.StreamStore(io.BytesIO(_tar(members)), detector, LIMITS)
    assert not store.exists("a")
    with pytest.raises(CorruptArchiveError, match="missing from the image export"):
        store.read("a")
