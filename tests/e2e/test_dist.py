"""Distribution: `make install-host` (docker-machine or local) and dist/install.sh over HTTP."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, free_port

pytestmark = pytest.mark.binary

FAKE_DOCKER_MACHINE = """#!/bin/sh
# Fake docker-machine: record the arguments, run `ssh MACHINE COMMAND` locally.
printf '%s\\n' "$*" >>"$FAKE_LOG"
[ "$1" = ssh ] || exit 2
shift 2
exec sh -c "$*"
"""
FAKE_SUDO = """#!/bin/sh
printf 'sudo %s\\n' "$*" >>"$FAKE_LOG"
exec "$@"
"""
CORRUPTING_TEE = """#!/bin/sh
# A tee that flips the stream's first byte: the remote copy is damaged in transit.
head -c 1 >/dev/null
{ printf 'X'; cat; } | /usr/bin/tee "$@"
"""


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make(target: str, env: dict[str, str], **variables: str) -> subprocess.CompletedProcess[str]:
    """Run a make target of the top-level Makefile with variables."""
    args = ["make", "--no-print-directory", "-C", str(ROOT), target]
    args += [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def fake_bin(tmp_path: Path, *, corrupt: bool = False) -> Path:
    """Make a directory with a fake docker-machine and sudo (and maybe a corrupting tee)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    scripts = {"docker-machine": FAKE_DOCKER_MACHINE, "sudo": FAKE_SUDO}
    if corrupt:
        scripts["tee"] = CORRUPTING_TEE
    for name, text in scripts.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    return bin_dir


FAKE_UNAME = """#!/bin/sh
# The far side's `uname -m`.
echo "$FAKE_MACHINE"
"""
HOST_DIST = {"x86_64": "injector-linux-amd64", "aarch64": "injector-linux-arm64"}[
    os.uname().machine
]


def test_install_host_through_docker_machine(binary: Path, tmp_path: Path) -> None:
    """install-host asks `uname -m`, pipes through `ssh MACHINE sudo tee`, 0755, sha256."""
    log = tmp_path / "calls.log"
    dest = tmp_path / "vm" / "sbin" / "injector"
    dest.parent.mkdir(parents=True)
    env = {**os.environ, "FAKE_LOG": str(log), "PATH": f"{fake_bin(tmp_path)}:/usr/bin:/bin"}
    done = make("install-host", env, MACHINE="testbox", INSTALL_HOST_PATH=str(dest))
    assert done.returncode == 0, done.stdout + done.stderr
    assert dest.read_bytes() == binary.read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    calls = log.read_text().splitlines()
    ssh_calls = [c for c in calls if c.startswith("ssh testbox ")]
    assert len(ssh_calls) == 3, calls
    assert ssh_calls[0] == "ssh testbox uname -m"
    assert f"sudo tee {dest}.new" in ssh_calls[1]
    assert "sha256sum -c" in ssh_calls[2]
    assert "verified sha256 on testbox" in done.stdout
    assert not Path(f"{dest}.new").exists()


def remote_machine(tmp_path: Path, machine: str) -> dict[str, str]:
    """Environment for install-host whose fake far side answers `uname -m` with *machine*."""
    bin_dir = fake_bin(tmp_path)
    (bin_dir / "uname").write_text(FAKE_UNAME)
    (bin_dir / "uname").chmod(0o755)
    return {
        **os.environ,
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_MACHINE": machine,
        "PATH": f"{bin_dir}:/usr/bin:/bin",
    }


def test_install_host_picks_the_remote_architecture(binary: Path, tmp_path: Path) -> None:
    """A remote that says aarch64 gets dist/injector-linux-arm64, checked by its sha256."""
    arm64 = ROOT / "dist" / "injector-linux-arm64"
    if not arm64.is_file():
        pytest.skip("no dist/injector-linux-arm64 (make dist builds it)")
    dest = tmp_path / "vm" / "injector"
    dest.parent.mkdir()
    done = make(
        "install-host",
        remote_machine(tmp_path, "aarch64"),
        MACHINE="graviton",
        INSTALL_HOST_PATH=str(dest),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert dest.read_bytes() == arm64.read_bytes() != binary.read_bytes()
    assert "aarch64" in done.stdout


def test_install_host_refuses_an_unknown_architecture(binary: Path, tmp_path: Path) -> None:
    """A remote of an architecture we do not build for gets nothing, and make fails."""
    dest = tmp_path / "vm" / "injector"
    dest.parent.mkdir()
    done = make(
        "install-host",
        remote_machine(tmp_path, "riscv64"),
        MACHINE="rv",
        INSTALL_HOST_PATH=str(dest),
    )
    assert done.returncode != 0
    assert "riscv64" in done.stderr
    assert not dest.exists()
    assert binary.is_file()


def test_install_host_refuses_a_corrupted_copy(binary: Path, tmp_path: Path) -> None:
    """When the far side's sha256 differs, nothing is installed and make fails."""
    dest = tmp_path / "vm" / "injector"
    dest.parent.mkdir()
    dest.write_bytes(b"previous version")
    env = {
        **os.environ,
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "PATH": f"{fake_bin(tmp_path, corrupt=True)}:/usr/bin:/bin",
    }
    done = make("install-host", env, MACHINE="testbox", INSTALL_HOST_PATH=str(dest))
    assert done.returncode != 0
    assert "sha256 mismatch" in done.stderr
    assert dest.read_bytes() == b"previous version"
    assert not Path(f"{dest}.new").exists()
    assert binary.is_file()


def test_install_host_without_docker_machine(binary: Path, tmp_path: Path) -> None:
    """Without docker-machine on PATH, install-host installs into DESTDIR/PREFIX/bin."""
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = make("install-host", env, PREFIX="/opt/inj", DESTDIR=str(tmp_path / "root"))
    assert done.returncode == 0, done.stdout + done.stderr
    installed = tmp_path / "root" / "opt" / "inj" / "bin" / "injector"
    assert sha256(installed) == sha256(binary)
    assert stat.S_IMODE(installed.stat().st_mode) == 0o755


@pytest.fixture(scope="module")
def installer(binary: Path) -> Path:
    """dist/install.sh rendered for the current dist/injector (make dist-installer)."""
    done = make("dist-installer", dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr
    script = ROOT / "dist" / "install.sh"
    assert sha256(binary) in script.read_text()
    return script


def serve(directory: Path) -> Iterator[str]:
    """Serve *directory* over HTTP on 127.0.0.1; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=1):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("http.server did not start", pytrace=False)
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def good_server(tmp_path: Path, binary: Path, installer: Path) -> Iterator[str]:
    """Serve a faithful copy of dist/ over HTTP."""
    site = tmp_path / "good"
    site.mkdir()
    for name in (HOST_DIST, f"{HOST_DIST}.sha256", "install.sh"):
        shutil.copy(ROOT / "dist" / name, site / name)
    yield from serve(site)


@pytest.fixture
def bad_server(tmp_path: Path, binary: Path, installer: Path) -> Iterator[str]:
    """Serve dist/ with one byte of injector flipped (checksum files untouched)."""
    site = tmp_path / "bad"
    site.mkdir()
    data = bytearray(binary.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (site / HOST_DIST).write_bytes(bytes(data))
    for name in (f"{HOST_DIST}.sha256", "install.sh"):
        shutil.copy(ROOT / "dist" / name, site / name)
    yield from serve(site)


def run_installer(
    script: Path, url: str, dest: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run install.sh with sh, a clean environment and *env*."""
    full = {"PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        ["sh", str(script), "--base-url", url, "--dest", str(dest)],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("downloader", ["curl", "wget"])
def test_install_sh_installs_and_verifies(
    installer: Path, good_server: str, binary: Path, tmp_path: Path, downloader: str
) -> None:
    """install.sh downloads from the base URL, checks the sha256 and installs 0755."""
    if shutil.which(downloader) is None:
        pytest.skip(f"{downloader} is not installed")
    dest = tmp_path / "bin" / "injector"
    done = run_installer(installer, good_server, dest, INJECTOR_DOWNLOADER=downloader)
    assert done.returncode == 0, done.stderr
    assert sha256(dest) == sha256(binary)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    version = subprocess.run([str(dest), "--version"], capture_output=True, check=False)
    assert version.returncode == 0
    assert version.stdout.startswith(b"injector ")


def test_install_sh_refuses_a_corrupted_download(
    installer: Path, bad_server: str, tmp_path: Path
) -> None:
    """A download whose sha256 differs is refused (exit 3) and nothing is left behind."""
    dest = tmp_path / "bin" / "injector"
    done = run_installer(installer, bad_server, dest)
    assert done.returncode == 3, done.stderr
    assert "sha256 mismatch" in done.stderr
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_install_sh_keeps_the_previous_binary_on_mismatch(
    installer: Path, bad_server: str, tmp_path: Path
) -> None:
    """An existing installation survives a refused download untouched."""
    dest = tmp_path / "injector"
    dest.write_bytes(b"old")
    done = run_installer(installer, bad_server, dest)
    assert done.returncode == 3
    assert dest.read_bytes() == b"old"


def test_unrendered_install_sh_uses_the_served_checksum(
    good_server: str, bad_server: str, binary: Path, tmp_path: Path
) -> None:
    """packaging/install.sh (no embedded sha256) verifies against URL/injector-linux-ARCH.sha256."""
    script = ROOT / "packaging" / "install.sh"
    dest = tmp_path / "a" / "injector"
    assert run_installer(script, good_server, dest).returncode == 0
    assert sha256(dest) == sha256(binary)
    other = tmp_path / "b" / "injector"
    done = run_installer(script, bad_server, other)
    assert done.returncode == 3, done.stderr
    assert not other.exists()


def test_install_sh_fails_cleanly_when_the_server_is_down(installer: Path, tmp_path: Path) -> None:
    """No server: a clear failure, nothing installed."""
    dest = tmp_path / "bin" / "injector"
    done = run_installer(installer, f"http://127.0.0.1:{free_port()}", dest)
    assert done.returncode == 1
    assert "cannot download" in done.stderr
    assert not dest.exists()


def test_install_sh_picks_the_file_by_architecture(installer: Path, tmp_path: Path) -> None:
    """INJECTOR_ARCH (else uname -m) picks injector-linux-ARCH; each checked by its own sha256."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(installer, site / "install.sh")
    for arch in ("amd64", "arm64"):
        if not (ROOT / "dist" / f"injector-linux-{arch}").is_file():
            pytest.skip(f"no dist/injector-linux-{arch} (make dist builds it)")
        shutil.copy(ROOT / "dist" / f"injector-linux-{arch}", site / f"injector-linux-{arch}")
    for server in serve(site):
        for arch, machine in (("arm64", "aarch64"), ("amd64", "x86_64")):
            dest = tmp_path / arch / "injector"
            done = run_installer(installer, server, dest, INJECTOR_ARCH=machine)
            assert done.returncode == 0, done.stderr
            assert sha256(dest) == sha256(ROOT / "dist" / f"injector-linux-{arch}")
        # The other architecture's file under this one's name is a checksum mismatch.
        shutil.copy(site / "injector-linux-amd64", site / "injector-linux-arm64")
        wrong = tmp_path / "wrong" / "injector"
        done = run_installer(installer, server, wrong, INJECTOR_ARCH="arm64")
        assert done.returncode == 3, done.stderr
        assert not wrong.exists()


def test_install_sh_refuses_an_unknown_architecture(installer: Path, tmp_path: Path) -> None:
    """An architecture without a binary fails (exit 1) before any download."""
    dest = tmp_path / "bin" / "injector"
    done = run_installer(
        installer, f"http://127.0.0.1:{free_port()}", dest, INJECTOR_ARCH="riscv64"
    )
    assert done.returncode == 1
    assert "riscv64" in done.stderr
    assert not dest.exists()
