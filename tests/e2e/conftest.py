"""Fixtures for the tests that run the built binary (dist/injector) from the host.

``binary`` is dist/injector (or ``$INJECTOR_BINARY``). When it is missing the tests fail,
because a test run that silently skipped the product is worse than a red one; set
``INJECTOR_ALLOW_NO_BINARY=1`` to skip them instead (e.g. a quick run without `make binary`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
BUCKET = "e2e-secrets"


@pytest.fixture(scope="session")
def binary(request: pytest.FixtureRequest) -> Path:
    """Return the built binary; fail (or skip, INJECTOR_ALLOW_NO_BINARY=1) when it is missing.

    A test marked ``arm64`` runs twice: against dist/injector and, parametrised ``arm64``
    (marker ``emulated``), against the arm64 binary under qemu-user-static.
    """
    if getattr(request, "param", "native") == "arm64":
        return arm64_binary()
    path = Path(os.environ.get("INJECTOR_BINARY", DIST / "injector"))
    if not (path.is_file() and os.access(path, os.X_OK)):
        missing(f"{path} is missing: run `make binary` (or `make binary-local`) first")
    return path


def missing(msg: str) -> NoReturn:
    """Fail the test for a missing prerequisite, or skip it with INJECTOR_ALLOW_NO_BINARY=1."""
    if os.environ.get("INJECTOR_ALLOW_NO_BINARY") == "1":
        pytest.skip(msg + " (skipped because INJECTOR_ALLOW_NO_BINARY=1)")
    pytest.fail(msg, pytrace=False)


# --------------------------------------------------------------------------------------
# arm64 under emulation (marker `emulated`): dist/injector-linux-arm64 (or
# $INJECTOR_BINARY_ARM64) run through binfmt_misc + qemu-user-static, which
# `make binary-tests-arm64` registers for the run (packaging/qemu-binfmt.sh).
# --------------------------------------------------------------------------------------

ARM64_BINARY = DIST / "injector-linux-arm64"
EM_AARCH64 = 0xB7  # ELF e_machine


def elf_machine(path: Path) -> int:
    """Return the ELF e_machine field of *path*."""
    with path.open("rb") as file:
        head = file.read(20)
    return int.from_bytes(head[18:20], "little")


def arm64_binary() -> Path:
    """Return the arm64 binary once it is known to run here (emulated), else fail or skip."""
    path = Path(os.environ.get("INJECTOR_BINARY_ARM64", ARM64_BINARY))
    if not (path.is_file() and os.access(path, os.X_OK)):
        missing(f"{path} is missing: run `make binary-arm64` (or `make dist`) first")
    if elf_machine(path) != EM_AARCH64:
        pytest.fail(f"{path} is not an aarch64 ELF file", pytrace=False)
    try:
        subprocess.run([str(path), "--version"], capture_output=True, timeout=120, check=False)
    except OSError as exc:
        missing(
            f"{path} does not run here ({exc.strerror}): no qemu-aarch64 in binfmt_misc; "
            "`make binary-tests-arm64` registers it"
        )
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test marked `arm64` against the native and the emulated arm64 binary."""
    if "binary" in metafunc.fixturenames and metafunc.definition.get_closest_marker("arm64"):
        metafunc.parametrize(
            "binary",
            ["native", pytest.param("arm64", marks=pytest.mark.emulated)],
            indirect=True,
            scope="session",
        )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Moto:
    """A moto server on loopback."""

    url: str

    def client(self, service: str):
        """Return a botocore client for *service* on this server."""
        import botocore.session

        session = botocore.session.get_session()
        return session.create_client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto accepts any key
        )


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    """Run a moto server on 127.0.0.1 for the whole session, with the test bucket created."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto_server did not start", pytrace=False)
                time.sleep(0.2)
        server = Moto(url)
        server.client("s3").create_bucket(Bucket=BUCKET)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def base_env(**extra: str) -> dict[str, str]:
    """Return a minimal environment: no AWS settings of the host leak into a test."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


@pytest.fixture
def aws_env(moto: Moto) -> dict[str, str]:
    """Environment that points botocore at the moto server."""
    return base_env(
        AWS_ENDPOINT_URL=moto.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto accepts any key
        AWS_REGION="us-east-1",
        INJECTOR_TIMEOUT="20",
    )


def run(
    command: list[str | os.PathLike[str]],
    env: dict[str, str],
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run *command* with *env*, capturing output."""
    return subprocess.run(
        [str(c) for c in command], env=env, capture_output=True, timeout=timeout, check=False
    )


# --------------------------------------------------------------------------------------
# Containers (marker `container`): tests/e2e/test_containers.py and test_compose.py.
#
# The Docker engine is started by tests/e2e/images/ensure-docker.sh and the offline test
# images are built by tests/e2e/images/build-images.sh (cached between local runs). The
# binary is volume-mounted read-only as each container's entrypoint. Containers reach the
# session's moto server on 127.0.0.1 through `--network host`; every other case runs with
# `--network none` or in a network namespace the test creates.
# --------------------------------------------------------------------------------------

IMAGES_DIR = ROOT / "tests" / "e2e" / "images"
IMAGE_KINDS = ("busybox", "alpine", "debian")  # the matrix: every case runs on each
OPTIONAL_IMAGE_KINDS = ("debian-python", "scratch")
CONTAINER_BINARY = "/sbin/injector"
LOCK = ROOT / "build" / "e2e-images.lock"


def image_name(kind: str) -> str:
    """Return the local image for *kind* (`INJECTOR_TEST_IMAGE_<KIND>` overrides it)."""
    var = "INJECTOR_TEST_IMAGE_" + kind.upper().replace("-", "_")
    return os.environ.get(var, f"injector-test/{kind}")


def docker_argv(*args: str) -> list[str]:
    """Return the docker command line; ``run`` and ``create`` get ``--pull never``.

    No image is ever pulled: a missing one must fail, never send the engine to a registry.
    """
    if args and args[0] in {"run", "create"}:
        return ["docker", args[0], "--pull", "never", *args[1:]]
    return ["docker", *args]


def docker_cmd(
    *args: str, timeout: float = 60, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI (docker_argv); raise with its stderr when *check* and it fails."""
    done = subprocess.run(
        docker_argv(*args), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} ... failed: {done.stderr.strip()}")
    return done


def _locked(func):
    """Serialise *func* across pytest-xdist workers with an flock on build/e2e-images.lock."""
    import fcntl

    def wrapper(*args, **kwargs):
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        with LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return func(*args, **kwargs)

    return wrapper


@_locked
def _ensure_docker() -> None:
    script = IMAGES_DIR / "ensure-docker.sh"
    if script.is_file():
        done = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            pytest.fail(
                f"{script} failed ({done.returncode}):\n{done.stdout}{done.stderr}", pytrace=False
            )
    if docker_cmd("info", check=False).returncode != 0:
        pytest.fail("no Docker engine: `docker info` fails", pytrace=False)


@pytest.fixture(scope="session")
def docker_ready() -> None:
    """Ensure a running Docker engine (tests/e2e/images/ensure-docker.sh starts one)."""
    _ensure_docker()


@_locked
def _build_images() -> None:
    if os.environ.get("INJECTOR_E2E_SKIP_BUILD") == "1":
        return
    script = IMAGES_DIR / "build-images.sh"
    if not script.is_file():
        pytest.fail(f"{script} is missing", pytrace=False)
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"{script} failed ({done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}",
            pytrace=False,
        )


def image_exists(name: str) -> bool:
    """Whether the engine holds image *name*."""
    return docker_cmd("image", "inspect", name, check=False).returncode == 0


@pytest.fixture(scope="session")
def images(docker_ready: None) -> dict[str, str]:
    """Return the offline test images by kind, built (or found in the cache) once per run."""
    _build_images()
    found = {}
    for kind in IMAGE_KINDS + OPTIONAL_IMAGE_KINDS:
        name = image_name(kind)
        if image_exists(name):
            found[kind] = name
        elif kind in IMAGE_KINDS:
            pytest.fail(f"image {name} is missing after build-images.sh", pytrace=False)
    return found


@dataclass
class Secrets:
    """Values seeded into the moto server for the container tests (random per session)."""

    s3_value: str  # at s3://BUCKET/app/secret
    squirrel_value: str  # at s3://my-secrets-bucket-e2e/DB_PASSWORD (stored with whitespace)
    envfile_value: str  # ENVFILE_KEY in the dotenv object s3://BUCKET/app.env
    json_ref: str  # an object holding JSON, for pointer errors

    @property
    def values(self) -> tuple[str, ...]:
        """Every secret value a container may receive."""
        return (self.s3_value, self.squirrel_value, self.envfile_value)

    def env(self) -> dict[str, str]:
        """Return references for all three delivery forms (the container sees only these)."""
        return {
            "SECRET": f"ref+s3://{BUCKET}/app/secret",
            "CREDENTIALS_DB_PASSWORD": "true",
            "BUCKETSUFFIX": "e2e",
            "INJECTOR_ENV_FILES": f"ref+s3://{BUCKET}/app.env",
        }


@pytest.fixture(scope="session")
def secrets(moto: Moto) -> Secrets:
    """Seed the moto server through boto3 with fresh random values."""
    import secrets as rnd

    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto accepts any key
    )
    seeded = Secrets(
        s3_value="e2eS3-" + rnd.token_hex(16),
        squirrel_value="e2eSQ-" + rnd.token_hex(16),
        envfile_value="e2eENV-" + rnd.token_hex(16),
        json_ref=f"ref+s3://{BUCKET}/app.json",
    )
    s3.put_object(Bucket=BUCKET, Key="app/secret", Body=seeded.s3_value.encode())
    s3.create_bucket(Bucket="my-secrets-bucket-e2e")
    s3.put_object(
        Bucket="my-secrets-bucket-e2e", Key="DB_PASSWORD", Body=f"  {seeded.squirrel_value}\n"
    )
    s3.put_object(Bucket=BUCKET, Key="app.env", Body=f"ENVFILE_KEY={seeded.envfile_value}\n")
    s3.put_object(Bucket=BUCKET, Key="app.json", Body=b'{"a": "b"}')
    return seeded


@dataclass
class Container:
    """A detached container started by a test; removed by the `docker` fixture's finalizer."""

    name: str

    def inspect(self) -> dict:
        """`docker inspect` of this container, parsed."""
        import json

        return json.loads(docker_cmd("inspect", self.name).stdout)[0]

    def logs(self) -> tuple[str, str]:
        """(stdout, stderr) so far."""
        done = docker_cmd("logs", self.name)
        return done.stdout, done.stderr

    def wait_for(self, text: str, timeout: float = 30) -> str:
        """Poll the logs until stdout contains *text*; return stdout."""
        deadline = time.monotonic() + timeout
        while True:
            out, err = self.logs()
            if text in out:
                return out
            state = self.inspect()["State"]
            if not state["Running"] or time.monotonic() > deadline:
                msg = f"{text!r} not in stdout of {self.name} (state {state['Status']})"
                raise AssertionError(f"{msg}\nstdout: {out}\nstderr: {err}")
            time.sleep(0.1)

    def exit_code(self, timeout: float = 60) -> int:
        """Wait for the container to stop; its exit code."""
        return int(docker_cmd("wait", self.name, timeout=timeout).stdout.strip())

    def host_pid(self) -> int:
        """Host pid of the container's PID 1."""
        return int(self.inspect()["State"]["Pid"])


@dataclass
class Docker:
    """Starts containers with the binary volume-mounted read-only as their entrypoint."""

    binary: Path
    names: list[str]

    def _argv(  # noqa: PLR0913 - one argument per docker run option group
        self,
        image: str,
        *,
        command: list[str],
        env: dict[str, str] | None,
        options: list[str],
        init: bool,
        entrypoint: bool,
    ) -> list[str]:
        argv = ["--network", "none"] if not any(o.startswith("--network") for o in options) else []
        argv += options
        if init:
            argv.append("--init")
        if entrypoint:
            argv += ["-v", f"{self.binary}:{CONTAINER_BINARY}:ro", "--entrypoint", CONTAINER_BINARY]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        return [*argv, image, *command]

    def _name(self) -> str:
        import uuid

        name = f"injector-e2e-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    def run(  # noqa: PLR0913 - one argument per docker run option group
        self,
        image: str,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        options: list[str] | None = None,
        init: bool = False,
        entrypoint: bool = True,
        timeout: float = 90,
    ) -> subprocess.CompletedProcess[str]:
        """`docker run` in the foreground (network none unless *options* name one)."""
        name = self._name()
        argv = self._argv(
            image,
            command=command,
            env=env,
            options=options or [],
            init=init,
            entrypoint=entrypoint,
        )
        return subprocess.run(
            docker_argv("run", "--name", name, *argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(  # noqa: PLR0913 - one argument per docker run option group
        self,
        image: str,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        options: list[str] | None = None,
        init: bool = False,
        entrypoint: bool = True,
    ) -> Container:
        """`docker run -d`: a container the test inspects, signals and stops."""
        name = self._name()
        argv = self._argv(
            image,
            command=command,
            env=env,
            options=options or [],
            init=init,
            entrypoint=entrypoint,
        )
        docker_cmd("run", "-d", "--name", name, *argv)
        return Container(name)


@pytest.fixture(scope="session")
def container_binary(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a private copy of the binary to mount, immune to a rebuild of dist/ mid-run."""
    import shutil

    copy = tmp_path_factory.mktemp("binary") / "injector"
    shutil.copy2(binary, copy)
    return copy


@pytest.fixture
def docker(container_binary: Path, docker_ready: None) -> Iterator[Docker]:
    """Start containers; every container made is removed afterwards, pass or fail."""
    engine = Docker(container_binary, [])
    try:
        yield engine
    finally:
        if engine.names:
            docker_cmd("rm", "-f", "-v", *engine.names, check=False)


def container_aws_env(moto: Moto, **extra: str) -> dict[str, str]:
    """Environment that points injector in a `--network host` container at the moto server."""
    env = {
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "INJECTOR_TIMEOUT": "20",
    }
    env.update(extra)
    return env
