"""The host agent's server and subcommands, on 127.0.0.1's moto, without a Docker engine.

In-process: the server runs in a thread of the test with a fake engine and a fake cgroup file
for the caller (the test itself, depth 0, in the host's pid namespace, so the policy allows
host pid), and the container side's client asks it. As subprocesses: ``agent serve`` starting,
refusing a host process, reloading on SIGHUP and stopping on SIGTERM; ``doctor``; ``whoami``.
The real containers are tests/e2e/test_agent.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from injector import hardening
from injector.agent import cgroup, client, policy, serve
from injector.agent.engine import EngineError, Facts
from injector.agent.server import State
from injector.deadline import Deadline
from injector.errors import AccessDeniedError, SecretNotFoundError, UnavailableError
from tests.support import runner
from tests.support.aws_seed import Seeder, aws_env_for
from tests.support.moto_server import MotoServer

CONTAINER = "c" * 64
BUCKET = "agent-int"


class FakeEngine:
    """Answers for one container whose init is this very process."""

    def __init__(self) -> None:
        """Start with a fresh, running, labelled container."""
        self.labels = {"svc": "pay"}
        self.image_labels: dict[str, str] = {}
        self.down = False
        self.started = time.time()

    def facts(self, container_id: str) -> Facts:
        """Return the facts, or fail like an engine that is down."""
        if self.down:
            raise EngineError("the engine did not answer: ConnectionRefusedError")
        return Facts(
            id=container_id,
            name="app",
            image_id="sha256:" + "d" * 64,
            running=True,
            pid=os.getpid(),
            started_at=self.started,
            labels=dict(self.labels),
            image_labels=dict(self.image_labels),
            privileged=False,
            host_pid=False,
        )


def policy_text(sock: Path) -> str:
    """Return a policy for the fake container (host pid allowed: the caller is the test)."""
    return f"""version = 1
[agent]
socket = "{sock}"
allow_host_pid = true
max_caller_depth = 1
request_timeout = "2s"

[[policy]]
name = "pay"
match.labels = {{ svc = "pay" }}
env.DB = "ref+s3://{BUCKET}/db"
files.KEY = "ref+s3://{BUCKET}/key"

[[policy]]
name = "gone"
match.labels = {{ svc = "gone" }}
env.NOPE = "ref+s3://{BUCKET}/nope"
"""


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """Return a fresh directory under /tmp (a socket path must fit 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="injint-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def agent(
    moto: MotoServer, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, FakeEngine]]:
    """Serve the policy in a thread; return the URL and the fake engine."""
    seeder = Seeder(moto.url)
    seeder.object(BUCKET, "db", "int-db-value")
    seeder.object(BUCKET, "key", "int-key-value")
    for name, value in aws_env_for(moto.url, short_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(hardening, "protect", lambda: True)  # keep pytest's worker dumpable
    monkeypatch.setattr(cgroup, "read", lambda *_args, **_kw: f"0::/docker/{CONTAINER}\n")
    sock = short_dir / "run" / "agent.sock"
    parsed = policy.parse(policy_text(sock).encode(), "test")
    engine = FakeEngine()
    server = serve.bind(str(sock), State(parsed, engine))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"unix://{sock}", engine
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_bundle_once(agent: tuple[str, FakeEngine]) -> None:
    """The container gets env and file secrets once; the second ask is 409 (77)."""
    url, _ = agent
    env, files = client.bundle(url, Deadline(20))
    assert env["DB"].reveal() == b"int-db-value"
    assert files["KEY_FILE"].reveal() == b"int-key-value"
    with pytest.raises(AccessDeniedError, match="409"):
        client.bundle(url, Deadline(5))


def test_whoami(agent: tuple[str, FakeEngine]) -> None:
    """Whoami names the container, labels and policy, never a value; it uses up nothing."""
    url, _ = agent
    seen = client.whoami(url, Deadline(5))
    assert seen["container_id"] == CONTAINER
    assert seen["policy"] == "pay"
    assert seen["variables"] == ["DB", "KEY_FILE"]
    assert seen["depth"] == 0
    env, _ = client.bundle(url, Deadline(20))
    assert env["DB"].reveal() == b"int-db-value"


def test_denials(agent: tuple[str, FakeEngine]) -> None:
    """No match, an image label, a missing secret, the engine down: 77, 77, 66, 69."""
    url, engine = agent
    engine.labels = {"svc": "other"}
    with pytest.raises(AccessDeniedError, match="403"):
        client.bundle(url, Deadline(5))
    engine.labels = engine.image_labels = {"svc": "pay"}
    with pytest.raises(AccessDeniedError, match="403"):
        client.bundle(url, Deadline(5))
    engine.labels, engine.image_labels = {"svc": "gone"}, {}
    with pytest.raises(SecretNotFoundError) as missing:
        client.bundle(url, Deadline(20))
    assert missing.value.reference == f"ref+s3://{BUCKET}/nope"
    engine.down = True
    with pytest.raises(UnavailableError):
        client.bundle(url, Deadline(1))


def raw(url: str, data: bytes) -> bytes:
    """Send raw bytes to the agent and read until it closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(client.socket_path(url))
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /v1/other HTTP/1.1\r\n\r\n", b"404"),
        (b"GET /v1/bundle HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", b"400"),
        (b"POST /v1/bundle HTTP/1.1\r\n\r\n", b"501"),
        (b"BAD\r\n\r\n", b"400"),
        (b"", b""),
    ],
)
def test_protocol(agent: tuple[str, FakeEngine], data: bytes, status: bytes) -> None:
    """Bad requests get a JSON error and a close (a silent one is closed at the deadline)."""
    url, _ = agent
    answer = raw(url, data)
    assert answer.startswith(b"HTTP/1.1 " + status) if status else answer == b""


# -- subprocesses ------------------------------------------------------------------------


def wait_for(predicate, timeout: float = 20.0) -> None:
    """Poll until *predicate* is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def events(path: Path) -> list[dict]:
    """Return the JSON lines of a log file."""
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def test_serve_reload_and_stop(aws_env: dict[str, str], short_dir: Path) -> None:
    """Serve refuses a host process (77), keeps its policy on a bad reload, stops on TERM."""
    sock = short_dir / "run" / "agent.sock"
    config = short_dir / "agent.toml"
    config.write_text(policy_text(sock), encoding="utf-8")
    log = short_dir / "agent.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            runner.command(["agent", "serve", "--config", str(config)]),
            env=runner.environment(aws_env),
            stdout=out,
            stderr=out,
        )
    try:
        wait_for(sock.exists)
        assert oct(sock.stat().st_mode & 0o777) == "0o666"
        assert oct(sock.parent.stat().st_mode & 0o777) == "0o755"
        with pytest.raises(AccessDeniedError, match="403"):
            client.bundle(f"unix://{sock}", Deadline(5))
        config.write_text(policy_text(sock).replace("match.labels", "match.lables"))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(e["event"] == "agent_reload_failed" for e in events(log)))
        config.write_text(policy_text(sock))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: any(e["event"] == "agent_reloaded" for e in events(log)))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not sock.exists()
    decision = next(e for e in events(log) if e["event"] == "agent_decision")
    assert decision["reason"] == "not in a container (no engine cgroup)"


def test_serve_refuses_bad_config(aws_env: dict[str, str], short_dir: Path) -> None:
    """A policy that does not validate stops serve before it binds: 78, naming the key."""
    config = short_dir / "agent.toml"
    config.write_text("version = 1\n[agent]\nsokcet = '/x'\n", encoding="utf-8")
    done = runner.run(aws_env, "agent", "serve", "--config", str(config))
    assert done.returncode == 78
    assert "agent.sokcet" in done.err


def test_doctor_and_whoami(aws_env: dict[str, str], short_dir: Path) -> None:
    """Doctor prints every check as JSON; whoami without an agent gives up with 69."""
    doctor = runner.run(aws_env, "agent", "doctor", "--json", "--config", str(short_dir / "x"))
    names = [c["name"] for c in json.loads(doctor.stdout)]
    assert "SO_PEERPIDFD" in names
    assert "metadata service" in names
    assert doctor.returncode in {0, 78}
    env = {**aws_env, "INJECTOR_AGENT": f"unix://{short_dir}/none.sock", "INJECTOR_TIMEOUT": "1"}
    whoami = runner.run(env, "agent", "whoami")
    assert whoami.returncode == 69
    usage = runner.run(aws_env, "agent", "nonsense")
    assert usage.returncode == 64


def test_check_config_from_a_reference(
    moto: MotoServer, aws_env: dict[str, str], short_dir: Path
) -> None:
    """--config ref+s3://...: fetched with the host's credentials; a missing one is 78."""
    Seeder(moto.url).object(BUCKET, "agent.toml", policy_text(short_dir / "a.sock"))
    good = runner.run(aws_env, "agent", "check-config", "--config", f"ref+s3://{BUCKET}/agent.toml")
    assert good.returncode == 0, good.err
    assert "policy pay: DB, KEY_FILE" in good.stdout.decode()
    gone = runner.run(aws_env, "agent", "check-config", "--config", f"ref+s3://{BUCKET}/none.toml")
    assert gone.returncode == 78
    assert "cannot fetch the policy" in gone.err


# -- more refusals, in-process -----------------------------------------------------------


def test_more_refusals(agent: tuple[str, FakeEngine], monkeypatch: pytest.MonkeyPatch) -> None:
    """Not running, privileged, too old, two container IDs, no container, peer gone: 77 each."""
    from injector.agent import identity

    url, engine = agent
    real = engine.facts

    def variant(**changes: object):
        return lambda container_id: real(container_id)._replace(**changes)

    for changes in ({"running": False}, {"privileged": True}, {"started_at": 1.0}):
        monkeypatch.setattr(engine, "facts", variant(**changes))
        with pytest.raises(AccessDeniedError, match="403"):
            client.bundle(url, Deadline(5))
    monkeypatch.setattr(engine, "facts", real)
    for text in (f"1:pids:/docker/{CONTAINER}\n0::/docker/{'e' * 64}\n", "0::/\n"):
        monkeypatch.setattr(cgroup, "read", lambda *_a, _t=text, **_k: _t)
        with pytest.raises(AccessDeniedError, match="403"):
            client.bundle(url, Deadline(5))

    def gone(*_args: object, **_kwargs: object) -> None:
        raise identity.PeerGoneError("the peer exited before it was accepted")

    monkeypatch.setattr(identity, "peer_of", gone)
    with pytest.raises(AccessDeniedError, match="401"):
        client.whoami(url, Deadline(5))


class FakeDockerEngine:
    """A Docker Engine API on a Unix socket: /version, /_ping, one container, one image."""

    def __init__(self, path: Path, container: dict, image: dict) -> None:
        """Serve in a thread."""
        import http.server
        import socketserver

        answers = {
            "/version": {"ApiVersion": "1.41", "Version": "20.10.24"},
            "/_ping": "OK",
            f"/containers/{CONTAINER}/json": container,
            f"/images/{container['Image']}/json": image,
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.startswith("/v1."):
                    path = path[path.index("/", 1) :]
                body = answers.get(path)
                data = (
                    b'{"message": "no such thing"}'
                    if body is None
                    else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
                )
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(str(path), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def test_engine_client(short_dir: Path) -> None:
    """The Docker SDK path: inspect container and image over the configured socket."""
    from injector.agent.engine import Engine, NoSuchContainerError

    container = {
        "Id": CONTAINER,
        "Name": "/app",
        "Image": "sha256:" + "d" * 64,
        "State": {"Running": True, "Pid": 7, "StartedAt": "2026-12-02T00:00:00.5Z"},
        "Config": {"Labels": {"svc": "pay"}},
        "HostConfig": {"Privileged": False, "PidMode": "host"},
    }
    sock = short_dir / "engine.sock"
    fake = FakeDockerEngine(sock, container, {"Config": {"Labels": {"baked": "1"}}})
    try:
        engine = Engine(f"unix://{sock}", timeout=5)
        assert engine.ping()
        facts = engine.facts(CONTAINER)
        assert (facts.name, facts.pid, facts.host_pid) == ("app", 7, True)
        assert facts.image_labels == {"baked": "1"}
        with pytest.raises(NoSuchContainerError):
            engine.facts("f" * 64)
    finally:
        fake.close()
    down = Engine(f"unix://{short_dir}/none.sock", timeout=1)
    assert not down.ping()
    with pytest.raises(EngineError):
        down.facts(CONTAINER)


def test_check_host_and_bind(monkeypatch: pytest.MonkeyPatch, short_dir: Path) -> None:
    """Serve refuses a non-root user, a foreign namespace, and a socket path that is a file."""
    from injector.errors import ConfigError

    (short_dir / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a socket"):
        serve.bind(str(short_dir / "file"), None)  # type: ignore[arg-type]
    real_stat = os.stat

    class Stat:
        st_ino = 1

    monkeypatch.setattr(
        os,
        "stat",
        lambda path, *a, **k: Stat() if "/ns/" in str(path) else real_stat(path, *a, **k),
    )
    with pytest.raises(ConfigError, match="host's pid namespace"):
        serve.check_host()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ConfigError, match="root"):
        serve.check_host()


def test_container_side_execs(agent: tuple[str, FakeEngine], shm_dir: Path) -> None:
    """Agent mode end to end in a subprocess (depth 1): the target gets env and file secrets."""
    url, _ = agent
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INJECTOR_AGENT": url,
        "INJECTOR_SECRETS_DIR": str(shm_dir),  # not left behind in the host's /dev/shm
    }
    done = runner.run(env, "--", "sh", "-c", 'echo "$DB"; cat "$KEY_FILE"', target_prints=True)
    assert done.returncode == 0, done.err
    assert done.stdout.decode().split() == ["int-db-value", "int-key-value"]
    again = runner.run(env, "--", "echo", "RAN", target_prints=True)
    assert again.returncode == 77  # once per start
    assert b"RAN" not in again.stdout


def test_socket_appears_with_its_mode(monkeypatch: pytest.MonkeyPatch, short_dir: Path) -> None:
    """The socket is created 0666: no moment where it listens at the umask's mode."""
    sock = short_dir / "run" / "agent.sock"
    real_chmod = os.chmod
    seen: list[str] = []

    def chmod(path: str, mode: int) -> None:
        if path == str(sock):  # the mode the socket had before any chmod of it
            seen.append(oct(os.stat(path).st_mode & 0o777))
        real_chmod(path, mode)

    monkeypatch.setattr(os, "chmod", chmod)
    old_umask = os.umask(0o022)
    try:
        server = serve.bind(str(sock), None)  # type: ignore[arg-type]
        after = os.umask(0o022)
    finally:
        os.umask(old_umask)
    try:
        assert seen == ["0o666"]
        assert after == 0o022  # bind put the caller's umask back
    finally:
        server.server_close()
