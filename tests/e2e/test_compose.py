"""docker-compose.test.yml, run as `make e2e-compose` runs it: locally built images, no registry."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from conftest import ROOT, _locked, docker_cmd

pytestmark = pytest.mark.container

COMPOSE_FILE = ROOT / "docker-compose.test.yml"
DEMO_VALUES = (
    "s3-secret-value-for-compose",
    "db-password-for-compose",
    "envfile-value-for-compose",
    "ssm-secure-string-for-compose",
    "sm-password-for-compose",
)


@_locked
def _moto_image() -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "tests" / "e2e" / "compose" / "build-moto-image.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"build-moto-image.sh failed:\n{done.stderr[-4000:]}", pytrace=False)
    return done.stdout.strip().splitlines()[-1]


def test_compose_file_as_a_user_runs_it(container_binary: Path, images: dict[str, str]) -> None:
    """`docker-compose up --exit-code-from app` exits 0: both apps received every secret."""
    project = f"injector-e2e-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "INJECTOR_BINARY": str(container_binary),
        "MOTO_IMAGE": _moto_image(),
        "ALPINE_IMAGE": images["alpine"],
        "BUSYBOX_IMAGE": images["busybox"],
    }
    compose = ["docker-compose", "-f", str(COMPOSE_FILE), "-p", project]

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*compose, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    try:
        up = run("up", "--exit-code-from", "app")
        alpine = run("logs", "--no-color", "app-alpine").stdout
        app = run("logs", "--no-color", "app").stdout
        assert up.returncode == 0, up.stdout[-6000:] + up.stderr[-3000:]
        assert "busybox: all secrets received" in app
        assert "alpine: all secrets received" in alpine
        assert "uid=65534" in alpine
        # compose stopped app-alpine once app had exited: SIGTERM reached the program
        assert "alpine: got SIGTERM" in alpine
        ids = run("ps", "-q").stdout.split()
        inspected = docker_cmd("inspect", *ids).stdout if ids else ""
        assert "ref+s3://compose-secrets/app/secret" in inspected
        for value in DEMO_VALUES:
            assert value not in inspected
            assert value not in up.stdout + alpine + app
    finally:
        run("down", "-v", "--remove-orphans", timeout=120)
