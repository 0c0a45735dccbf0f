"""The offline test images exist and are what the container tests assume.

Build them with ``tests/e2e/images/build-images.sh`` (as root; see its README).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile

import pytest
from conftest import docker_argv

pytestmark = pytest.mark.container

PREFIX = "injector-test"
IMAGES = ("busybox", "alpine", "debian", "debian-python", "scratch")
LABEL = "injector-test.inputs"
BUILD_HINT = "run tests/e2e/images/build-images.sh as root"
PT_INTERP = 3  # ELF program header type that names a dynamic loader


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run the docker CLI (conftest.docker_argv: never a pull) and capture its output."""
    return subprocess.run(docker_argv(*args), capture_output=True, check=check, timeout=120)


def run_in(image: str, script: str) -> str:
    """Run *script* with /bin/sh in a network-less container of *image*; return its stdout."""
    proc = docker("run", "--rm", "--network", "none", f"{PREFIX}/{image}", "/bin/sh", "-c", script)
    return proc.stdout.decode()


def layer(image: str) -> tarfile.TarFile:
    """Open, in memory, the single layer that `docker import` made for *image*."""
    with tarfile.open(fileobj=io.BytesIO(docker("save", f"{PREFIX}/{image}").stdout)) as saved:
        layers = [m for m in saved.getmembers() if m.name.endswith("layer.tar")]
        assert len(layers) == 1, f"{image}: expected one layer, found {len(layers)}"
        data = saved.extractfile(layers[0])
        assert data is not None
        return tarfile.open(fileobj=io.BytesIO(data.read()))


def read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """Return the content of a regular file in *tar*."""
    data = tar.extractfile(member)
    assert data is not None
    return data.read()


def elf_interpreter(data: bytes) -> bool:
    """Whether ELF64 little-endian *data* has a PT_INTERP program header (a dynamic loader)."""
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phentsize = int.from_bytes(data[0x36:0x38], "little")
    phnum = int.from_bytes(data[0x38:0x3A], "little")
    for i in range(phnum):
        start = phoff + i * phentsize
        if int.from_bytes(data[start : start + 4], "little") == PT_INTERP:
            return True
    return False


@pytest.fixture(scope="session", autouse=True)
def images_present() -> None:
    """Fail with a build hint when the engine or any test image is missing."""
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        pytest.fail("no working Docker engine: run tests/e2e/images/ensure-docker.sh as root")
    missing = [
        n for n in IMAGES if docker("image", "inspect", f"{PREFIX}/{n}", check=False).returncode
    ]
    if missing:
        pytest.fail(f"missing images {missing}: {BUILD_HINT}", pytrace=False)


@pytest.mark.parametrize("name", IMAGES)
def test_image_is_labelled_with_its_inputs(name: str) -> None:
    """Every image carries the content hash that lets a rebuild skip it."""
    out = docker("image", "inspect", "-f", "{{json .Config.Labels}}", f"{PREFIX}/{name}").stdout
    labels = json.loads(out) or {}
    assert len(labels.get(LABEL, "")) == 64


def test_busybox_has_no_dynamic_code() -> None:
    """The busybox image holds no loader or library, and its only ELF file is static."""
    with layer("busybox") as tar:
        members = tar.getmembers()
        assert not [m.name for m in members if "/ld-" in m.name or ".so" in m.name]
        contents = {m.name: read(tar, m) for m in members if m.isfile()}
    elves = {name: data for name, data in contents.items() if data.startswith(b"\x7fELF")}
    assert list(elves) == ["./bin/busybox"]
    assert not elf_interpreter(elves["./bin/busybox"])
    assert run_in("busybox", "id -u nobody; stat -c %a /tmp") == "65534\n1777\n"


def test_alpine_has_the_musl_loader() -> None:
    """The alpine image is a real Alpine with musl's dynamic loader and no glibc."""
    out = run_in(
        "alpine",
        "test -e /lib/ld-musl-x86_64.so.1 && echo musl; "
        "test -e /lib64/ld-linux-x86-64.so.2 && echo glibc; cat /etc/alpine-release",
    )
    lines = out.splitlines()
    assert lines[0] == "musl"
    assert lines[1].startswith("3.")


def test_debian_has_the_glibc_loader() -> None:
    """The debian image is Debian 12 with glibc's dynamic loader."""
    out = run_in(
        "debian", "test -e /lib64/ld-linux-x86-64.so.2 && echo glibc; cat /etc/debian_version"
    )
    lines = out.splitlines()
    assert lines[0] == "glibc"
    assert lines[1].startswith("12.")


def test_debian_python_runs_python3() -> None:
    """The debian-python image runs python3 for helper servers inside containers."""
    assert run_in("debian-python", "python3 -c 'print(6 * 7)'") == "42\n"


def test_scratch_holds_only_etc_passwd() -> None:
    """The scratch image holds only /etc/passwd (no shell, no /tmp), and docker creates from it."""
    with layer("scratch") as tar:
        assert [m.name for m in tar.getmembers() if not m.isdir()] == ["./etc/passwd"]
    cid = docker("create", "--network", "none", f"{PREFIX}/scratch", "/injector").stdout.decode()
    docker("rm", cid.strip())
