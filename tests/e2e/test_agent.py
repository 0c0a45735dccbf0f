"""The host agent (issue 14) on the real Docker engine: every row of the issue's table.

The agent runs as a subprocess of the test on the host (``python -m injector agent serve``),
talking to its own moto server on 127.0.0.1. Containers run with ``--network none`` and the
socket's directory mounted at /run/injector; their entrypoint is dist/injector in agent mode.
"""

from __future__ import annotations

import json
import os
import secrets as rnd
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, Docker, base_env, docker_cmd

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.agent import CONTAINER_URL, AgentProcess
from tests.support.aws_seed import Seeder, aws_env_for
from tests.support.moto_server import MotoServer

pytestmark = pytest.mark.container

LABEL = "com.example.service"
BUCKET = "agent-e2e"
SHOW = 'echo "DB=$DB_PASSWORD API=$API_KEY SSM=$SSM_VALUE"; cat "$TLS_KEY_FILE"; echo; echo RAN'
SETTINGS = {"max_start_age": "60s", "max_caller_depth": 2, "request_timeout": "3s"}


class Values:
    """The secrets seeded for the agent (random per session)."""

    def __init__(self, seeder: Seeder) -> None:
        """Seed S3, Secrets Manager and SSM."""
        self.db = "agDB-" + rnd.token_hex(12)
        self.api = "agAPI-" + rnd.token_hex(12)
        self.ssm = "agSSM-" + rnd.token_hex(12)
        self.tls = "agTLS-" + rnd.token_hex(12)
        seeder.object(BUCKET, "payments/db", self.db)
        seeder.object(BUCKET, "payments/tls.key", self.tls)
        seeder.json_secret("agent/payments", {"api_key": self.api})
        seeder.parameter("/agent/payments/ssm", self.ssm)

    def all(self) -> tuple[str, ...]:
        """Every value."""
        return (self.db, self.api, self.ssm, self.tls)


POLICIES = f"""
[[policy]]
name = "payments"
match.labels = {{ "{LABEL}" = "payments" }}
env.DB_PASSWORD = "ref+s3://{BUCKET}/payments/db"
env.API_KEY = "ref+awssecrets://agent/payments#/api_key"
env.SSM_VALUE = "ref+awsssm:///agent/payments/ssm"
files.TLS_KEY = "ref+s3://{BUCKET}/payments/tls.key"

[[policy]]
name = "missing"
match.labels = {{ "{LABEL}" = "missing" }}
env.GONE = "ref+s3://{BUCKET}/payments/no-such-key"
"""


@pytest.fixture(scope="module")
def agent_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """Run the agent tests' own moto server on 127.0.0.1."""
    server = MotoServer(tmp_path_factory.mktemp("agent-moto")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def values(agent_moto: MotoServer) -> Values:
    """Seeded values."""
    return Values(Seeder(agent_moto.url))


@pytest.fixture(scope="module")
def host_env(agent_moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return the agent's environment: moto's credentials, metadata disabled."""
    env = aws_env_for(agent_moto.url, tmp_path_factory.mktemp("agent-home"))
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    return env


@pytest.fixture
def make_agent(host_env: dict[str, str], values: Values) -> Iterator[Callable[..., AgentProcess]]:
    """Start agents with given settings/policies/env (secrets seeded); all stopped afterwards."""
    started: list[AgentProcess] = []

    def make(
        settings: dict | None = None, policies: str = POLICIES, env: dict | None = None
    ) -> AgentProcess:
        agent = AgentProcess(env or host_env, {**SETTINGS, **(settings or {})}, policies)
        started.append(agent)
        return agent.start()

    try:
        yield make
    finally:
        for agent in started:
            agent.stop()


@pytest.fixture(scope="module")
def shared_agent(host_env: dict[str, str], values: Values) -> Iterator[AgentProcess]:
    """One agent with the default settings (secrets seeded) for tests that need nothing else."""
    agent = AgentProcess(host_env, SETTINGS, POLICIES).start()
    try:
        yield agent
    finally:
        agent.stop()


def run_agent_mode(  # noqa: PLR0913 - docker run's option groups
    docker: Docker,
    agent: AgentProcess,
    image: str,
    command: list[str],
    *,
    label: str | None = "payments",
    options: list[str] | None = None,
    env: dict[str, str] | None = None,
    entrypoint: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`docker run --network none` with the socket directory mounted, in agent mode."""
    opts = [*agent.mount(), *(options or [])]
    if label:
        opts += ["--label", f"{LABEL}={label}"]
    if not entrypoint:
        opts += ["-v", f"{docker.binary}:/sbin/injector:ro"]
    return docker.run(
        image,
        command,
        env={"INJECTOR_AGENT": CONTAINER_URL, **(env or {})},
        options=opts,
        entrypoint=entrypoint,
    )


def last(agent: AgentProcess, count: int) -> dict:
    """Return the *count*-th audit line (waiting for it)."""
    found = agent.wait_decisions(count)
    assert len(found) >= count, agent.log_tail()
    return found[count - 1]


def failed(stderr: str) -> dict:
    """Return the container injector's one `failed` line."""
    events = [json.loads(x) for x in stderr.splitlines() if x.startswith("{")]
    return next(e for e in events if e.get("event") == "failed")


# -- the good path -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["busybox", "alpine", "debian"])
def test_secrets_arrive(
    kind: str, images: dict[str, str], docker: Docker, shared_agent: AgentProcess, values: Values
) -> None:
    """Env and file secrets arrive; inspect, PID 1's environ and the log hold no value."""
    before = len(shared_agent.decisions())
    done = run_agent_mode(
        docker, shared_agent, images[kind], ["sh", "-c", SHOW + "; tr '\\0' '\\n' </proc/1/environ"]
    )
    assert done.returncode == 0, done.stderr
    assert f"DB={values.db} API={values.api} SSM={values.ssm}" in done.stdout
    assert values.tls in done.stdout
    environ_of_pid1 = done.stdout.split("RAN", 1)[1]
    assert "INJECTOR_AGENT=" in environ_of_pid1
    for value in values.all():
        assert value not in environ_of_pid1
        assert value not in done.stderr
        assert value not in shared_agent.log_text()
    assert "AWS_" not in environ_of_pid1
    inspect = docker_cmd("inspect", docker.names[-1]).stdout
    assert "AWS_" not in inspect
    assert not any(v in inspect for v in values.all())
    audit = last(shared_agent, before + 1)
    assert audit["decision"] == "allow"
    assert audit["policy"] == "payments"
    assert audit["variables"] == ["API_KEY", "DB_PASSWORD", "SSM_VALUE", "TLS_KEY_FILE"]
    assert audit["race_defence"] == "pidfd"


def test_whoami(images: dict[str, str], docker: Docker, shared_agent: AgentProcess) -> None:
    """`injector agent whoami` shows the identity the agent sees, never a value."""
    done = run_agent_mode(docker, shared_agent, images["busybox"], ["agent", "whoami"])
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["container_name"] == docker.names[-1]
    assert seen["run_time_labels"] == {LABEL: "payments"}
    assert seen["policy"] == "payments"
    assert seen["depth"] == 1  # staticx bootloader (PID 1) -> Python (onedir: no launcher between)


# -- denied callers ----------------------------------------------------------------------


def test_no_policy(images: dict[str, str], docker: Docker, shared_agent: AgentProcess) -> None:
    """A container matching no policy: 403 without policy names; 77, target not run."""
    before = len(shared_agent.decisions())
    done = run_agent_mode(docker, shared_agent, images["busybox"], ["echo", "RAN"], label="other")
    assert done.returncode == 77, done.stderr
    assert "RAN" not in done.stdout
    assert "payments" not in done.stderr
    audit = last(shared_agent, before + 1)
    assert (audit["status"], audit["reason"]) == (403, "no policy matches")


def test_host_process(binary: Path, shared_agent: AgentProcess) -> None:
    """A host process (no container cgroup): 403; injector exits 77."""
    before = len(shared_agent.decisions())
    done = subprocess.run(
        [str(binary), "--agent", shared_agent.url, "--", "echo", "RAN"],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 77, done.stderr
    assert "RAN" not in done.stdout
    audit = last(shared_agent, before + 1)
    assert audit["status"] == 403
    assert "not in a container" in audit["reason"]


def test_second_request_same_start(
    images: dict[str, str], docker: Docker, shared_agent: AgentProcess
) -> None:
    """The second request of one container start: 409 and an alert; 77."""
    before = len(shared_agent.decisions())
    script = "/sbin/injector -- true && /sbin/injector -- echo RAN2; echo second=$?"
    done = run_agent_mode(
        docker,
        shared_agent,
        images["busybox"],
        ["-c", script],
        options=["--entrypoint", "/bin/sh"],
        entrypoint=False,
    )
    assert "RAN2" not in done.stdout
    assert "second=77" in done.stdout, done.stderr
    first, second = last(shared_agent, before + 1), last(shared_agent, before + 2)
    assert first["decision"] == "allow"
    assert second["status"] == 409
    assert second["event"] == "agent_alert"
    assert second["alert"] is True


def test_restart_is_a_new_start(
    images: dict[str, str], docker: Docker, shared_agent: AgentProcess
) -> None:
    """`docker start` of a stopped container is a new start: served again."""
    container = docker.start(
        images["busybox"],
        ["echo", "RAN"],
        env={"INJECTOR_AGENT": CONTAINER_URL},
        options=[*shared_agent.mount(), "--label", f"{LABEL}=payments"],
    )
    assert container.exit_code() == 0
    docker_cmd("start", container.name)
    assert container.exit_code() == 0
    assert container.logs()[0].count("RAN") == 2


def test_too_late(images: dict[str, str], docker: Docker, make_agent) -> None:
    """Later than max_start_age: 403; 77."""
    agent = make_agent({"max_start_age": "1s"})
    done = run_agent_mode(
        docker,
        agent,
        images["busybox"],
        ["-c", "sleep 2; exec /sbin/injector -- echo RAN"],
        options=["--entrypoint", "/bin/sh"],
        entrypoint=False,
    )
    assert done.returncode == 77, done.stderr
    audit = last(agent, 1)
    assert audit["status"] == 403
    assert "max_start_age" in audit["reason"]


def test_too_deep(images: dict[str, str], docker: Docker, shared_agent: AgentProcess) -> None:
    """A caller deeper than max_caller_depth (an app's child): 403; 77."""
    before = len(shared_agent.decisions())
    script = 'sh -c "/sbin/injector -- echo RAN; echo inner=\\$?"; true'
    done = run_agent_mode(
        docker,
        shared_agent,
        images["busybox"],
        ["-c", script],
        options=["--entrypoint", "/bin/sh"],
        entrypoint=False,
    )
    assert "inner=77" in done.stdout, done.stderr
    assert "RAN" not in done.stdout
    audit = last(shared_agent, before + 1)
    assert audit["status"] == 403
    assert "init chain" in audit["reason"]


def test_docker_exec(images: dict[str, str], docker: Docker, shared_agent: AgentProcess) -> None:
    """A `docker exec` process is not in the init chain: 403; 77."""
    before = len(shared_agent.decisions())
    container = docker.start(
        images["busybox"],
        ["-c", "sleep 60"],
        options=[
            *shared_agent.mount(),
            "--label",
            f"{LABEL}=payments",
            "-v",
            f"{docker.binary}:/sbin/injector:ro",
            "--entrypoint",
            "/bin/sh",
        ],
        entrypoint=False,
    )
    done = docker_cmd(
        "exec",
        "-e",
        f"INJECTOR_AGENT={CONTAINER_URL}",
        container.name,
        "/sbin/injector",
        "--",
        "echo",
        "RAN",
        check=False,
    )
    assert done.returncode == 77, done.stderr
    audit = last(shared_agent, before + 1)
    assert audit["status"] == 403
    assert "init chain" in audit["reason"]


@pytest.fixture(scope="module")
def labelled_image(images: dict[str, str]) -> Iterator[str]:
    """Build an image whose baked LABEL claims the payments policy (offline, FROM local)."""
    import uuid

    name = f"injector-test-agent/labelled-{uuid.uuid4().hex[:8]}:latest"
    dockerfile = f'FROM {images["busybox"]}\nLABEL {LABEL}="payments"\n'
    done = subprocess.run(
        ["docker", "build", "-q", "-t", name, "-"],
        input=dockerfile,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    try:
        yield name
    finally:
        docker_cmd("rmi", "-f", name, check=False)


def test_image_label_not_trusted(
    labelled_image: str, docker: Docker, shared_agent: AgentProcess
) -> None:
    """An image-baked LABEL matching a policy, no run-time label: 403 (audit says so); 77."""
    before = len(shared_agent.decisions())
    done = run_agent_mode(docker, shared_agent, labelled_image, ["echo", "RAN"], label=None)
    assert done.returncode == 77, done.stderr
    audit = last(shared_agent, before + 1)
    assert audit["status"] == 403
    assert audit["reason"] == "no policy: image label not trusted"


@pytest.mark.parametrize(
    ("option", "reason"),
    [("--privileged", "privileged"), ("--pid=host", "host pid")],
)
def test_privileged_or_host_pid(
    option: str, reason: str, images: dict[str, str], docker: Docker, shared_agent: AgentProcess
) -> None:
    """A privileged or --pid=host container without the opt-in: 403; 77."""
    if option == "--privileged":
        probe = docker_cmd(
            "run",
            "--rm",
            "--network",
            "none",
            "--privileged",
            images["busybox"],
            "true",
            check=False,
        )
        if probe.returncode != 0:
            pytest.skip(f"this engine cannot run --privileged here: {probe.stderr.strip()[:120]}")
    before = len(shared_agent.decisions())
    done = run_agent_mode(
        docker, shared_agent, images["busybox"], ["echo", "RAN"], options=[option]
    )
    assert done.returncode == 77, done.stderr
    audit = last(shared_agent, before + 1)
    assert audit["status"] == 403
    assert reason in audit["reason"]


# -- bad input ---------------------------------------------------------------------------


def raw_exchange(path: Path, data: bytes, timeout: float = 10) -> bytes:
    """Send *data* on a fresh connection and read until the agent closes it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /v1/bundle HTTP/1.1\r\n" + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
        (
            b"GET /v1/bundle HTTP/1.1\r\n"
            + b"".join(b"X-%d: y\r\n" % i for i in range(200))
            + b"\r\n",
            b"431",
        ),
        (b"GET /v1/bundle HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", b"400"),
        (b"GET /v1/nothing HTTP/1.1\r\n\r\n", b"404"),
        (b"GET /v1/bundle HTTP/9.9\r\n\r\n", b"505"),
    ],
    ids=["request-line", "long-header", "many-headers", "body-on-get", "unknown-path", "version"],
)
def test_protocol_errors(request_bytes: bytes, status: bytes, shared_agent: AgentProcess) -> None:
    """Malformed requests get a 4xx/5xx JSON answer, the connection closes, no traceback."""
    answer = raw_exchange(shared_agent.socket, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert b"Connection: close" in answer
    assert "Traceback" not in shared_agent.log_text()


class FakeAgent:
    """A Unix-socket server on the host that answers every connection with fixed bytes."""

    def __init__(self, answer: bytes | None) -> None:
        """Bind in a fresh /tmp directory; None means accept and never answer."""
        import tempfile
        import threading

        self.directory = Path(tempfile.mkdtemp(prefix="injfake-", dir="/tmp"))
        os.chmod(self.directory, 0o755)  # noqa: S103 - containers traverse it
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(self.directory / "agent.sock"))
        os.chmod(self.directory / "agent.sock", 0o666)  # noqa: S103 - any container uid
        self.server.listen(16)
        self.answer = answer
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if self.answer is None:
                self.held.append(conn)
                continue
            conn.recv(65536)
            conn.sendall(self.answer)
            conn.close()

    def close(self) -> None:
        """Stop and remove the socket."""
        self.server.close()
        for conn in self.held:
            conn.close()
        (self.directory / "agent.sock").unlink()
        self.directory.rmdir()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!",
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\nConnection: close\r\n\r\n"
            b'{"env": {"A": "@@@"}}  '
        ),
        b"garbage, not HTTP\r\n\r\n",
    ],
    ids=["not-json", "bad-base64", "not-http"],
)
def test_malformed_answer(answer: bytes, images: dict[str, str], docker: Docker) -> None:
    """A malformed answer from the socket: 65, target not run."""
    fake = FakeAgent(answer)
    try:
        done = docker.run(
            images["busybox"],
            ["echo", "RAN"],
            env={"INJECTOR_AGENT": CONTAINER_URL, "INJECTOR_TIMEOUT": "5"},
            options=["-v", f"{fake.directory}:/run/injector:ro"],
        )
    finally:
        fake.close()
    assert done.returncode in {65, 69}, done.stderr
    assert "RAN" not in done.stdout
    if answer.startswith(b"HTTP"):
        assert done.returncode == 65, done.stderr


def test_silent_client(
    images: dict[str, str], docker: Docker, shared_agent: AgentProcess, values: Values
) -> None:
    """A client that sends nothing is closed at the deadline; others are served meanwhile."""
    import threading

    closed: list[float] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.settimeout(30)
        silent.connect(str(shared_agent.socket))
        started = time.monotonic()

        def watch() -> None:
            if silent.recv(100) == b"":  # EOF: the agent closed it
                closed.append(time.monotonic() - started)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        done = run_agent_mode(docker, shared_agent, images["busybox"], ["sh", "-c", SHOW])
        assert done.returncode == 0, done.stderr
        assert values.db in done.stdout
        watcher.join(timeout=30)
    assert closed, "the silent client was never closed"
    assert 2.5 < closed[0] < 10.0  # request_timeout is 3 s


def test_silent_agent(images: dict[str, str], docker: Docker) -> None:
    """An agent that never answers: injector gives up at INJECTOR_TIMEOUT with 69."""
    fake = FakeAgent(None)
    try:
        done = docker.run(
            images["busybox"],
            ["echo", "RAN"],
            env={"INJECTOR_AGENT": CONTAINER_URL, "INJECTOR_TIMEOUT": "2"},
            options=["-v", f"{fake.directory}:/run/injector:ro"],
        )
    finally:
        fake.close()
    assert done.returncode == 69, done.stderr


def test_unreachable_agent(images: dict[str, str], docker: Docker, tmp_path: Path) -> None:
    """No socket at all: retried with backoff until INJECTOR_TIMEOUT, then 69."""
    empty = Path("/tmp") / f"injnone-{os.getpid()}"
    empty.mkdir(exist_ok=True)
    try:
        started = time.monotonic()
        done = docker.run(
            images["busybox"],
            ["echo", "RAN"],
            env={"INJECTOR_AGENT": CONTAINER_URL, "INJECTOR_TIMEOUT": "2"},
            options=["-v", f"{empty}:/run/injector:ro"],
        )
        elapsed = time.monotonic() - started
    finally:
        empty.rmdir()
    assert done.returncode == 69, done.stderr
    # It kept retrying for most of its deadline (the last backoff that would overrun the
    # deadline is not slept), rather than giving up after one attempt.
    assert elapsed > 1.0
    assert "deadline" in failed(done.stderr)["error"]


def test_engine_down(images: dict[str, str], docker: Docker, make_agent) -> None:
    """The engine socket is down: 503 (retried by the client); 69 at the deadline."""
    agent = make_agent({"engine": "unix:///tmp/injector-no-such-engine.sock"})
    done = run_agent_mode(
        docker, agent, images["busybox"], ["echo", "RAN"], env={"INJECTOR_TIMEOUT": "2"}
    )
    assert done.returncode == 69, done.stderr
    assert last(agent, 1)["status"] == 503


def test_secret_missing(images: dict[str, str], docker: Docker, shared_agent: AgentProcess) -> None:
    """A secret missing on AWS: 404 naming the reference; 66."""
    before = len(shared_agent.decisions())
    done = run_agent_mode(docker, shared_agent, images["busybox"], ["echo", "RAN"], label="missing")
    assert done.returncode == 66, done.stderr
    assert failed(done.stderr)["reference"] == f"ref+s3://{BUCKET}/payments/no-such-key"
    assert last(shared_agent, before + 1)["status"] == 404


def test_secret_denied(
    images: dict[str, str], docker: Docker, make_agent, host_env: dict[str, str]
) -> None:
    """The host cannot get a secret (no credentials): 502 naming the reference; 77."""
    env = {
        k: v for k, v in host_env.items() if not k.startswith("AWS_ACCESS") and "SECRET" not in k
    }
    agent = make_agent(env=env)
    done = run_agent_mode(docker, agent, images["busybox"], ["echo", "RAN"])
    assert done.returncode == 77, done.stderr
    assert failed(done.stderr)["reference"].startswith("ref+")
    assert last(agent, 1)["status"] == 502


# -- the agent itself --------------------------------------------------------------------


def test_reload_keeps_old_policy(
    images: dict[str, str], docker: Docker, make_agent, values: Values
) -> None:
    """SIGHUP: a broken policy keeps the old one in force; a good one is swapped in."""
    agent = make_agent()
    agent.config.write_text("version = 1\n[[policy]]\nname = 'x'\nmatch.lables = {}\n")
    agent.reload()
    deadline = time.monotonic() + 10
    while not any(e["event"] == "agent_reload_failed" for e in agent.events()):
        assert time.monotonic() < deadline, agent.log_tail()
        time.sleep(0.05)
    failed_line = next(e for e in agent.events() if e["event"] == "agent_reload_failed")
    assert "match.lables" in failed_line["error"]
    done = run_agent_mode(docker, agent, images["busybox"], ["sh", "-c", SHOW])
    assert done.returncode == 0, done.stderr
    agent.write(POLICIES.replace('"payments" }', '"renamed" }'))
    agent.reload()
    while not any(e["event"] == "agent_reloaded" for e in agent.events()):
        assert time.monotonic() < deadline, agent.log_tail()
        time.sleep(0.05)
    done = run_agent_mode(docker, agent, images["busybox"], ["echo", "RAN"])
    assert done.returncode == 77


def test_refuses_outside_host_namespaces(host_env: dict[str, str], tmp_path: Path) -> None:
    """In a new pid namespace the agent refuses to start: 78."""
    config = tmp_path / "agent.toml"
    config.write_text(f'version = 1\n[agent]\nsocket = "{tmp_path}/s.sock"\n')
    done = subprocess.run(
        [
            "unshare",
            "--pid",
            "--fork",
            sys.executable,
            "-m",
            "injector",
            "agent",
            "serve",
            "--config",
            str(config),
        ],
        env=host_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 78, done.stderr
    assert "host's pid namespace" in done.stderr


# -- races and spoofs --------------------------------------------------------------------

CONNECTOR = """
import os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("/run/injector/agent.sock")
open("/sig/connected", "w").write(str(os.getpid()))
while not os.path.exists("/sig/fork"):
    time.sleep(0.02)
if os.fork() == 0:
    while not os.path.exists("/sig/go"):
        time.sleep(0.02)
    s.sendall(b"GET /v1/bundle HTTP/1.1\\r\\nHost: agent\\r\\n\\r\\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    open("/sig/answer", "wb").write(data)
    os._exit(0)
os._exit(0)
"""


def wait_file(path: Path, timeout: float = 30) -> str:
    """Wait for *path* to exist; return its text."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    time.sleep(0.05)
    return path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def sigdir() -> Iterator[Path]:
    """Make a host directory to mount read-write at /sig, to signal a container."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="injsig-", dir="/tmp"))
    os.chmod(path, 0o777)  # noqa: S103 - the container writes here
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("defence", ["pidfd", "start_time"])
def test_pid_reuse_race(
    defence: str, images: dict[str, str], docker: Docker, make_agent, sigdir: Path
) -> None:
    """The connecting process exits and its PID is reused inside container B: 401.

    A's helper connects and forks a child that keeps the socket; the parent exits; the test
    makes a process with the parent's PID in B's pid namespace and cgroups (ns_last_pid);
    then the child sends the request. Every check passes as B except the last one.
    """
    from tests.support.agent import host_pid_of, reuse_pid

    agent = make_agent(
        {"request_timeout": "60s"},
        env=_no_pidfd_env() if defence == "start_time" else None,
    )
    victim = docker.start(
        images["busybox"],
        ["sleep", "120"],
        options=["--label", f"{LABEL}=payments"],
        entrypoint=False,
    )
    attacker = docker.start(
        images["debian-python"],
        ["sh", "-c", f"python3 -c '{CONNECTOR}'; sleep 120"],
        options=[*agent.mount(), "-v", f"{sigdir}:/sig", "--label", f"{LABEL}=other"],
        init=True,
        entrypoint=False,
    )
    inner = int(wait_file(sigdir / "connected"))
    connector = host_pid_of(inner, attacker.host_pid())
    time.sleep(0.5)  # the agent has accepted and pinned the connector
    (sigdir / "fork").touch()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{connector}").exists():
        assert time.monotonic() < deadline, "the connector did not exit"
        time.sleep(0.02)
    impostor = reuse_pid(connector, victim.host_pid())
    assert impostor == connector
    (sigdir / "go").touch()
    answer = wait_file(sigdir / "answer")
    assert answer.startswith("HTTP/1.1 401"), answer
    audit = last(agent, 1)
    assert audit["status"] == 401
    assert audit["race_defence"] == defence
    assert audit["container_id"] == victim.inspect()["Id"]  # every other check passed as B
    assert audit["policy"] == "payments"


_HOST_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _remember_host_env(host_env: dict[str, str]) -> None:
    _HOST_ENV.update(host_env)


def _no_pidfd_env() -> dict[str, str]:
    return {**_HOST_ENV, "INJECTOR_AGENT_TEST_NO_PIDFD": "1"}


@pytest.mark.parametrize("spoof", ["into-other-cgroup", "nested-cgroup-named-after-other"])
def test_cgroup_spoofs(
    spoof: str, images: dict[str, str], docker: Docker, shared_agent: AgentProcess, sigdir: Path
) -> None:
    """A process in another container's cgroup, or in a nested cgroup named after it: 403.

    The host does the cgroup writes a privileged container could do for itself.
    """
    from tests.support.agent import move_to_cgroups_of

    before = len(shared_agent.decisions())
    victim = docker.start(
        images["busybox"],
        ["sleep", "120"],
        options=["--label", f"{LABEL}=payments"],
        entrypoint=False,
    )
    spoofer = docker.start(
        images["busybox"],
        ["-c", "while [ ! -e /sig/go ]; do sleep 0.05; done; exec /sbin/injector -- echo RAN"],
        env={"INJECTOR_AGENT": CONTAINER_URL},
        options=[
            *shared_agent.mount(),
            "-v",
            f"{sigdir}:/sig",
            "-v",
            f"{docker.binary}:/sbin/injector:ro",
            "--entrypoint",
            "/bin/sh",
        ],
        entrypoint=False,
    )
    victim_id = victim.inspect()["Id"]
    made: list[Path] = []
    try:
        if spoof == "into-other-cgroup":
            move_to_cgroups_of(spoofer.host_pid(), victim.host_pid())
        else:
            made = move_to_cgroups_of(
                spoofer.host_pid(), spoofer.host_pid(), nested=f"docker/{victim_id}"
            )
        (sigdir / "go").touch()
        assert spoofer.exit_code() == 77, spoofer.logs()
        audit = last(shared_agent, before + 1)
        assert audit["status"] == 403
        if spoof == "into-other-cgroup":
            assert audit["container_id"] == victim_id
            assert audit["reason"] == "pid namespace differs from the container's"
        else:
            assert audit["container_id"] == spoofer.inspect()["Id"]  # the shallowest match
            assert audit["reason"] == "no policy matches"
    finally:
        docker_cmd("rm", "-f", spoofer.name, check=False)
        for path in reversed(made):
            with __import__("contextlib").suppress(OSError):
                path.rmdir()


@pytest.mark.parametrize("upgraded", [False, True], ids=["as-is", "file-replaced"])
def test_static_binary_agent(  # noqa: PLR0913, PLR0917 - fixtures
    upgraded: bool,
    binary: Path,
    images: dict[str, str],
    docker: Docker,
    host_env: dict[str, str],
    values: Values,
    tmp_path: Path,
) -> None:
    """dist/injector itself serves as the agent (docker SDK and tomllib frozen in).

    Upgraded: the frozen agent keeps serving after its file is replaced (an installer's
    rename) and deleted. Its modules are read in place from the file it runs from (the
    side-loaded PKG, staticx patch 0008) through /proc/<pid>/exe, so the first bundle's
    imports, after the swap, still come from the original file, not the new one.
    """
    program = tmp_path / "injector"
    program.write_bytes(binary.read_bytes())
    program.chmod(0o755)
    agent = AgentProcess(host_env, SETTINGS, POLICIES, program=[str(program)]).start()
    try:
        if upgraded:
            upgrade = tmp_path / "injector.new"
            upgrade.write_bytes(b"#!/bin/sh\nexit 99\n")
            upgrade.replace(program)
            program.unlink()
        done = run_agent_mode(docker, agent, images["alpine"], ["sh", "-c", SHOW])
        assert done.returncode == 0, done.stderr + agent.log_tail()
        assert values.tls in done.stdout
        assert last(agent, 1)["decision"] == "allow"
    finally:
        agent.stop()


def test_config_from_a_reference(
    images: dict[str, str],
    docker: Docker,
    host_env: dict[str, str],
    agent_moto: MotoServer,
    values: Values,
) -> None:
    """--config ref+s3://...: the policy is fetched with the host's credentials."""
    agent = AgentProcess(host_env, SETTINGS, POLICIES)
    Seeder(agent_moto.url).object(BUCKET, "agent.toml", agent.config.read_text())
    agent.origin = f"ref+s3://{BUCKET}/agent.toml"
    agent.start()
    try:
        done = run_agent_mode(docker, agent, images["busybox"], ["sh", "-c", SHOW])
        assert done.returncode == 0, done.stderr + agent.log_tail()
        assert values.db in done.stdout
    finally:
        agent.stop()


def test_doctor(binary: Path, docker_ready: None, tmp_path: Path) -> None:
    """`injector agent doctor --json` reports every check; on this host none fails."""
    config = tmp_path / "agent.toml"
    config.write_text('version = 1\n[agent]\nsocket = "/run/injector/agent/agent.sock"\n')
    done = subprocess.run(
        [str(binary), "agent", "doctor", "--json", "--config", str(config)],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert set(checks) == {
        "root",
        "pid namespace",
        "cgroup namespace",
        "engine",
        "SO_PEERPIDFD",
        "socket path",
        "metadata service",
    }
    assert done.returncode == (78 if any(c["status"] == "fail" for c in checks.values()) else 0)
    assert checks["engine"]["status"] == "ok"
    assert checks["socket path"]["status"] == "ok"
    assert checks["metadata service"]["status"] in {"ok", "warn"}
