"""The arm64 binary as PID 1 of an arm64 busybox container, under qemu-user-static.

The image (injector-test/busybox-arm64) is Debian's busybox-static for arm64, imported by
tests/e2e/images/build-busybox-arm64.sh; the engine runs it through the qemu-aarch64
binfmt_misc entry (flag F), so no `--platform` and no registry are involved. Containers
reach moto on 127.0.0.1 with `--network host`, or have no network at all.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    BUCKET,
    IMAGES_DIR,
    Docker,
    Moto,
    Secrets,
    _locked,
    arm64_binary,
    container_aws_env,
    docker_cmd,
)

pytestmark = [pytest.mark.container, pytest.mark.emulated]

IMAGE = "injector-test/busybox-arm64:latest"
HOST = ["--network", "host"]


@_locked
def _build_image() -> None:
    script = IMAGES_DIR / "build-busybox-arm64.sh"
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{script} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="module")
def arm64_docker_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a private copy of the arm64 binary (immune to a rebuild of dist/ mid-run)."""
    copy = tmp_path_factory.mktemp("arm64") / "injector"
    shutil.copy2(arm64_binary(), copy)
    return copy


@pytest.fixture
def arm64(arm64_docker_binary: Path, docker_ready: None) -> Iterator[Docker]:
    """Start arm64 busybox containers with the arm64 binary as entrypoint; remove them after."""
    _build_image()
    engine = Docker(arm64_docker_binary, [])
    try:
        yield engine
    finally:
        if engine.names:
            docker_cmd("rm", "-f", "-v", *engine.names, check=False)


def test_the_container_is_arm64(arm64: Docker) -> None:
    """The image's programs and the injector in it are aarch64 (emulated), not the host's."""
    done = arm64.run(IMAGE, ["uname", "-m"], timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "aarch64\n"


def test_a_secret_arrives(arm64: Docker, moto: Moto, secrets: Secrets) -> None:
    """An S3 secret from moto on 127.0.0.1 reaches the target; nothing of it in the log."""
    env = container_aws_env(moto, SECRET=f"ref+s3://{BUCKET}/app/secret")
    done = arm64.run(IMAGE, ["sh", "-c", 'printf %s "$SECRET"'], env=env, options=HOST, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout == secrets.s3_value
    assert secrets.s3_value not in done.stderr


def test_docker_stop_delivers_term(arm64: Docker) -> None:
    """`docker stop` reaches the target as SIGTERM through the emulated PID 1 at once."""
    trapper = "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 1 & wait $!; done"
    container = arm64.start(IMAGE, ["sh", "-c", trapper])
    container.wait_for("ready", timeout=120)
    began = time.monotonic()
    docker_cmd("stop", "-t", "30", container.name, timeout=60)
    took = time.monotonic() - began
    assert took < 10, f"docker stop took {took:.1f}s: SIGTERM did not reach the target"
    assert container.exit_code() == 0
    assert container.logs()[0].splitlines() == ["ready", "got TERM"]


@pytest.mark.parametrize(
    ("argv", "env", "code"),
    [
        (["sh", "-c", "exit 42"], {}, 42),
        (["sh", "-c", "kill -TERM $$"], {}, 143),
        (["--no-such-option", "true"], {}, 64),
        (["true"], {"CREDENTIALS_X": "true"}, 78),
        (["/dev/null"], {}, 126),
        (["/no/such/program"], {}, 127),
    ],
    ids=["target-42", "target-sigterm-143", "usage-64", "config-78", "126", "127"],
)
def test_exit_codes_propagate(
    arm64: Docker, argv: list[str], env: dict[str, str], code: int
) -> None:
    """The container exits with the target's code, 128+n for a signal, or injector's own."""
    done = arm64.run(IMAGE, argv, env=env, timeout=180)
    assert done.returncode == code, done.stderr
