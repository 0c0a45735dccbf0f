"""A small writer of synthetic image archives for the scan tests (no engine, no registry).

Layers are built from dicts of files; images are written as the legacy ``docker save``
layout (Docker <= 24), the OCI-based ``docker save`` layout of Docker >= 25, an OCI image
layout directory (optionally behind a nested index, layers gzip- or zstd-compressed) and
an ``oci-archive`` tar. Secret values are generated per run in valid formats.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import secrets
import string
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    None: "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def _pick(alphabet: str, size: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(size))


def aws_key_id() -> str:
    """Return a fresh access key ID in AWS's format (never the documentation example)."""
    return "AKIA" + _pick(string.ascii_uppercase + "234567", 16)


def aws_secret() -> str:
    """Return a fresh 40-character secret access key."""
    return _pick(string.ascii_letters + string.digits + "+/", 40)


def github_token() -> str:
    """Return a fresh classic GitHub token."""
    return "ghp_" + _pick(string.ascii_letters + string.digits, 36)


def password(size: int = 10) -> str:
    """Return a short human-looking password (letters and digits only)."""
    return _pick(string.ascii_lowercase, size - 3) + _pick(string.digits, 3)


def private_key_pem() -> str:
    """Return a freshly generated RSA private key in PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - fast; tests only
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def b64(text: str) -> str:
    """Return base64 of *text*."""
    return base64.b64encode(text.encode()).decode()


@dataclass
class Layer:
    """One layer: files (path -> bytes), whiteouts, opaque dirs, hard links, symlinks."""

    files: dict[str, bytes] = field(default_factory=dict)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)

    def tar(self) -> bytes:
        """Return the layer as an uncompressed tar."""
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            dirs = sorted({str(Path(p).parent) for p in self.files} - {"/", "."})
            for directory in dirs:
                info = tarfile.TarInfo(directory.lstrip("/") + "/")
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            for path, data in self.files.items():
                info = tarfile.TarInfo(path.lstrip("/"))
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
            for directory in self.opaque:
                tar.addfile(tarfile.TarInfo(f"{directory.strip('/')}/.wh..wh..opq"))
            for path in self.whiteouts:
                parent, _, name = path.strip("/").rpartition("/")
                tar.addfile(tarfile.TarInfo(f"{parent}/.wh.{name}".lstrip("/")))
            for path, target in self.links.items():
                info = tarfile.TarInfo(path.lstrip("/"))
                info.type, info.linkname = tarfile.LNKTYPE, target.lstrip("/")
                tar.addfile(info)
            for path, target in self.symlinks.items():
                info = tarfile.TarInfo(path.lstrip("/"))
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
        return out.getvalue()


def nested_tar_gz(files: dict[str, bytes]) -> bytes:
    """Return a .tar.gz holding *files* (to plant a secret inside an archive in the image)."""
    return gzip.compress(Layer(files).tar(), mtime=0)


def compress(data: bytes, how: str | None) -> bytes:
    """Compress a layer tar with gzip or zstd (or not)."""
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def digest(data: bytes) -> str:
    """Return ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Image:
    """An image to write: layers plus config fields."""

    layers: list[Layer]
    env: list[str] = field(default_factory=lambda: ["PATH=/usr/bin:/bin"])
    labels: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, object]] = field(default_factory=list)
    cmd: list[str] = field(default_factory=lambda: ["/bin/sh"])
    tag: str = "scan-fixture:latest"

    def tars(self) -> list[bytes]:
        """Return every layer's tar."""
        return [layer.tar() for layer in self.layers]

    def config(self, tars: list[bytes]) -> bytes:
        """Return the config JSON for *tars*."""
        history = self.history or [{"created_by": f"layer {i}"} for i in range(len(tars))]
        document = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": self.env, "Labels": self.labels or None, "Cmd": self.cmd},
            "rootfs": {"type": "layers", "diff_ids": [digest(t) for t in tars]},
            "history": history,
        }
        return json.dumps(document).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def write_legacy(image: Image, path: Path) -> Path:
    """Write the ``docker save`` layout of Docker <= 24 (``<id>/layer.tar``)."""
    tars = image.tars()
    config = image.config(tars)
    config_name = digest(config).split(":")[1] + ".json"
    names = [f"{digest(t).split(':')[1][:32]}{i}/layer.tar" for i, t in enumerate(tars)]
    with tarfile.open(path, "w") as tar:
        for name, data in zip(names, tars, strict=True):
            _add(tar, name, data)
        _add(tar, config_name, config)
        manifest = [{"Config": config_name, "RepoTags": [image.tag], "Layers": names}]
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return path


def _oci_blobs(image: Image, how: str | None) -> tuple[dict[str, bytes], bytes, bytes]:
    """Return (blobs by digest, manifest bytes, config bytes)."""
    tars = image.tars()
    config = image.config(tars)
    layers = [compress(t, how) for t in tars]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [
            {"mediaType": LAYER_TYPES[how], "digest": digest(b), "size": len(b)} for b in layers
        ],
    }
    manifest_bytes = json.dumps(manifest).encode()
    blobs = {digest(b): b for b in [*layers, config, manifest_bytes]}
    return blobs, manifest_bytes, config


def _index(manifest: bytes, tag: str, media: str = OCI_MANIFEST) -> bytes:
    descriptor = {
        "mediaType": media,
        "digest": digest(manifest),
        "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag},
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    return json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
    ).encode()


def oci_files(image: Image, how: str | None = None, nested: bool = False) -> dict[str, bytes]:
    """Return the files of an OCI layout (``index.json`` possibly behind a nested index)."""
    blobs, manifest, _ = _oci_blobs(image, how)
    top = _index(manifest, image.tag)
    if nested:
        blobs[digest(top)] = top
        top = _index(top, image.tag, OCI_INDEX)
    files = {f"blobs/sha256/{d.split(':')[1]}": b for d, b in blobs.items()}
    files["index.json"] = top
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    return files


def write_docker25(image: Image, path: Path, how: str | None = None, nested: bool = False) -> Path:
    """Write the OCI-based ``docker save`` layout of Docker >= 25 (with manifest.json)."""
    files = oci_files(image, how, nested)
    blobs, manifest_bytes, config = _oci_blobs(image, how)
    manifest = json.loads(manifest_bytes)
    docker_manifest = [
        {
            "Config": "blobs/sha256/" + digest(config).split(":")[1],
            "RepoTags": [image.tag],
            "Layers": ["blobs/sha256/" + d["digest"].split(":")[1] for d in manifest["layers"]],
        }
    ]
    files["manifest.json"] = json.dumps(docker_manifest).encode()
    del blobs
    with tarfile.open(path, "w") as tar:
        for name, data in sorted(files.items()):
            _add(tar, name, data)
    return path


def write_oci_dir(image: Image, root: Path, how: str | None = "gzip", nested: bool = False) -> Path:
    """Write an OCI image layout directory."""
    for name, data in oci_files(image, how, nested).items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def write_oci_archive(image: Image, path: Path, how: str | None = "gzip") -> Path:
    """Write an OCI layout as one tar (``oci-archive:``)."""
    with tarfile.open(path, "w") as tar:
        for name, data in sorted(oci_files(image, how).items()):
            _add(tar, name, data)
    return path
