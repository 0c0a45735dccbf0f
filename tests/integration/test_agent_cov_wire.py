"""The agent on the wire: server error paths, client retries and bad answers, serve's refusals.

In-process agent servers use a fake engine whose container init is this test process (as in
test_agent_server.py); the client is tested against a scripted fake agent on a Unix socket in a
temporary directory; the container side and ``agent whoami`` run as real subprocesses.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from injector import hardening
from injector.agent import audit, bundle, cgroup, client, engine, policy, serve
from injector.agent import server as agent_server
from injector.agent.engine import EngineError, Facts
from injector.agent.server import State
from injector.deadline import Deadline
from injector.errors import BadDataError, ConfigError, UnavailableError
from tests.support import runner
from tests.support.aws_seed import Seeder, aws_env_for
from tests.support.moto_server import MotoServer

CONTAINER = "c" * 64
BUCKET = "agent-cov"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """Return a fresh directory under /tmp (a socket path must fit 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="injcov-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class FakeEngine:
    """Facts of one running container whose init is this process; a hook runs on each ask."""

    def __init__(self) -> None:
        """Answer at once, for a container started now."""
        self.hook: Callable[[], None] = lambda: None
        self.started = time.time()

    def facts(self, container_id: str) -> Facts:
        """Run the hook, then answer."""
        self.hook()
        return Facts(
            id=container_id,
            name="app",
            image_id="sha256:" + "d" * 64,
            running=True,
            pid=os.getpid(),
            started_at=self.started,
            labels={"svc": "pay"},
            image_labels={},
            privileged=False,
            host_pid=False,
        )


def policy_text(sock: Path, timeout: str = "2s", engine_url: str = "") -> str:
    """Return a policy for the fake container (host pid allowed: the caller is the test)."""
    engine_line = f'engine = "{engine_url}"\n' if engine_url else ""
    return f"""version = 1
[agent]
socket = "{sock}"
{engine_line}allow_host_pid = true
max_caller_depth = 1
request_timeout = "{timeout}"

[[policy]]
name = "pay"
match.labels = {{ svc = "pay" }}
env.DB = "ref+s3://{BUCKET}/db"
"""


class Served:
    """An in-process agent server in a thread."""

    def __init__(self, sock: Path, text: str) -> None:
        """Bind and serve *text*'s policy with a fake engine."""
        self.engine = FakeEngine()
        self.url = f"unix://{sock}"
        self.server = serve.bind(str(sock), State(policy.parse(text.encode(), "test"), self.engine))  # type: ignore[arg-type]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def start_agent(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Served]]:
    """Return a function that serves the test policy (with a request_timeout) in a thread."""
    monkeypatch.setattr(cgroup, "read", lambda *_args, **_kw: f"0::/docker/{CONTAINER}\n")
    started: list[Served] = []

    def start(timeout: str = "2s") -> Served:
        sock = short_dir / "run" / "agent.sock"
        started.append(Served(sock, policy_text(sock, timeout)))
        return started[-1]

    yield start
    for one in started:
        one.close()


def connect(url: str) -> socket.socket:
    """Return a connected client socket (10 s per operation)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(client.socket_path(url))
    return sock


def exchange(url: str, data: bytes) -> bytes:
    """Send raw bytes to the agent and read until it closes."""
    chunks = []
    with connect(url) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        with contextlib.suppress(ConnectionResetError):  # closed with our bytes unread
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


WHOAMI = b"GET /v1/whoami HTTP/1.1\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET /v1/whoami HTTP/1.1\r\n" + b"X-A: 1\r\n" * 150 + b"\r\n", b"431"),
        (b"GET /v1/whoami HTTP/1.1\r\nX-A: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
        (b"GET /v1/bundle\r\n\r\n", b"400"),
        (b"GET /v1/bundle HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400"),
    ],
)
def test_oversized_and_odd_requests(
    start_agent: Callable[..., Served], data: bytes, status: bytes
) -> None:
    """A long request line, too many or too long headers, HTTP/0.9, a chunked body: 4xx + close."""
    url = start_agent().url
    answer = exchange(url, data)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Traceback" not in answer
    assert b'"kind": "' in answer


def test_busy_agent_closes_extra_connections(
    start_agent: Callable[..., Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_IN_FLIGHT connections a new one is closed unanswered; a freed slot serves again."""
    monkeypatch.setattr(agent_server, "MAX_IN_FLIGHT", 1)
    agent = start_agent(timeout="30s")
    holder = connect(agent.url)
    try:
        assert exchange(agent.url, WHOAMI) == b""
    finally:
        holder.close()
    deadline = time.monotonic() + 20
    answer = b""
    while not answer and time.monotonic() < deadline:
        answer = exchange(agent.url, WHOAMI)
    assert answer.startswith(b"HTTP/1.1 200")


def test_slow_client_is_cut_at_request_timeout(start_agent: Callable[..., Served]) -> None:
    """A client trickling header lines never finishes: the agent closes it at request_timeout."""
    agent = start_agent(timeout="1s")
    with connect(agent.url) as sock:
        sock.sendall(b"GET /v1/whoami HTTP/1.1\r\n")
        closed = False
        for _ in range(300):  # at most ~30 s; the agent cuts it after about one second
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            time.sleep(0.1)
    assert closed


def test_engine_crash_is_an_internal_error(start_agent: Callable[..., Served]) -> None:
    """An unexpected exception while deciding is a 500 (a malformed answer, 65), no traceback."""
    agent = start_agent()

    def crash() -> None:
        raise RuntimeError("boom")

    agent.engine.hook = crash
    answer = exchange(agent.url, WHOAMI)
    assert answer.startswith(b"HTTP/1.1 500")
    assert b"boom" not in answer
    with pytest.raises(BadDataError, match="500"):
        client.whoami(agent.url, Deadline(5))


def test_handler_failure_is_one_log_line(
    start_agent: Callable[..., Served], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure escaping a handler is logged by class name only, and the agent serves on."""
    agent = start_agent()
    lines: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(agent_server.log, "error", lambda event, **kw: lines.append((event, kw)))
    real_emit = audit.Record.emit

    def broken(self: audit.Record, status: int) -> None:
        raise RuntimeError("audit sink broken")

    monkeypatch.setattr(audit.Record, "emit", broken)
    assert exchange(agent.url, WHOAMI).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lines == [("agent_request_error", {"error": "RuntimeError"})]
    monkeypatch.setattr(audit.Record, "emit", real_emit)
    assert client.whoami(agent.url, Deadline(5))["container_id"] == CONTAINER


def test_client_gone_before_the_answer_keeps_the_start(
    moto: MotoServer,
    short_dir: Path,
    start_agent: Callable[..., Served],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A caller that hangs up before its bundle is written has not used up its start."""
    Seeder(moto.url).object(BUCKET, "db", "cov-db-value")
    for name, value in aws_env_for(moto.url, short_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(hardening, "protect", lambda: True)
    agent = start_agent(timeout="20s")
    hung_up = threading.Event()
    asked = threading.Event()

    def wait_for_hang_up() -> None:
        asked.set()
        hung_up.wait(20)

    audited: list[str] = []
    finished = threading.Event()
    real_emit = audit.Record.emit

    def emit(self: audit.Record, status: int) -> None:
        audited.append(self.reason)
        finished.set()
        real_emit(self, status)

    monkeypatch.setattr(audit.Record, "emit", emit)
    agent.engine.hook = wait_for_hang_up
    with connect(agent.url) as sock:
        sock.sendall(b"GET /v1/bundle HTTP/1.1\r\n\r\n")
        assert asked.wait(20)
    agent.engine.hook = lambda: None
    hung_up.set()
    assert finished.wait(30)
    assert audited == ["delivered (client went away)"]
    env, _ = client.bundle(agent.url, Deadline(20))
    assert env["DB"].reveal() == b"cov-db-value"


# -- the client against a scripted agent -------------------------------------------------


def http(status: int, body: bytes) -> bytes:
    """Return a whole HTTP/1.1 answer."""
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


def ok_bundle(env: dict[str, bytes], files: dict[str, bytes] | None = None) -> bytes:
    """Return a 200 bundle answer."""
    encode = {k: base64.b64encode(v).decode() for k, v in env.items()}
    encoded = {k: base64.b64encode(v).decode() for k, v in (files or {}).items()}
    return http(200, json.dumps({"version": 1, "env": encode, "files": encoded}).encode())


class ScriptedAgent:
    """A fake agent: answers each connection with the next scripted answer (the last repeats)."""

    def __init__(self, path: Path, answers: list[bytes]) -> None:
        """Serve *answers* on *path* in a thread."""
        self.answers = answers
        self.asked = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                index = min(outer.asked, len(outer.answers) - 1)
                outer.asked += 1
                self.request.sendall(outer.answers[index])

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.url = f"unix://{path}"
        self.server = Server(str(path), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted(short_dir: Path) -> Iterator[Callable[[list[bytes]], ScriptedAgent]]:
    """Return a function that starts a scripted fake agent."""
    started: list[ScriptedAgent] = []

    def start(answers: list[bytes]) -> ScriptedAgent:
        started.append(ScriptedAgent(short_dir / f"fake{len(started)}.sock", answers))
        return started[-1]

    yield start
    for one in started:
        one.close()


def test_client_retries_an_engine_outage(scripted: Callable[[list[bytes]], ScriptedAgent]) -> None:
    """A 503 (engine down) is retried with backoff; the next answer's bundle is used."""
    fake = scripted([http(503, b'{"error": "engine unavailable"}'), ok_bundle({"A": b"av"})])
    env, files = client.bundle(fake.url, Deadline(10))
    assert (env["A"].reveal(), files, fake.asked) == (b"av", {}, 2)


def test_client_gives_up_at_the_deadline(scripted: Callable[[list[bytes]], ScriptedAgent]) -> None:
    """An agent that keeps answering 503 ends in 69 naming its last error and the deadline."""
    fake = scripted([http(503, b'{"error": "engine unavailable"}')])
    # the second form only when a backoff sleep overshoots the deadline on a loaded machine
    expected = r"engine unavailable until the deadline \(2s\)|overall deadline of 2s passed"
    with pytest.raises(UnavailableError, match=expected):
        client.bundle(fake.url, Deadline(2))
    assert fake.asked >= 2


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (http(200, b"not json"), "malformed answer from the agent"),
        (http(200, b"[1, 2]"), "malformed answer from the agent"),
        (http(200, b'{"env": {"A": 5}}'), "bad env entry"),
        (http(200, b'{"files": []}'), "files is not an object"),
        (http(200, b'{"env": {"A": "!!"}}'), "A is not base64"),
        (http(418, b'{"error": "teapot"}'), "418: teapot"),
    ],
)
def test_client_refuses_malformed_answers(
    scripted: Callable[[list[bytes]], ScriptedAgent], answer: bytes, fragment: str
) -> None:
    """Answers that are not a well-formed bundle are bad data (65), never retried."""
    fake = scripted([answer])
    with pytest.raises(BadDataError, match=fragment):
        client.bundle(fake.url, Deadline(5))
    assert fake.asked == 1


def test_client_refuses_an_oversized_answer(
    scripted: Callable[[list[bytes]], ScriptedAgent], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer past MAX_ANSWER is refused as too large before it is parsed."""
    monkeypatch.setattr(client, "MAX_ANSWER", 1024)
    fake = scripted([ok_bundle({"A": b"x" * 2048})])
    with pytest.raises(BadDataError, match="too large"):
        client.bundle(fake.url, Deadline(5))


def test_container_side_env_only_bundle_execs(
    scripted: Callable[[list[bytes]], ScriptedAgent],
) -> None:
    """Agent mode with a bundle of env only: no tmpfs is needed and the target gets the value."""
    fake = scripted([ok_bundle({"ONLY": b"env-only-value"})])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "INJECTOR_AGENT": fake.url}
    done = runner.run(env, "--", "sh", "-c", 'echo "$ONLY"', target_prints=True)
    assert done.returncode == 0, done.err
    assert done.stdout.decode().split() == ["env-only-value"]


def test_container_references_refused_in_agent_mode(
    scripted: Callable[[list[bytes]], ScriptedAgent],
) -> None:
    """In agent mode a reference in the container's own environment is refused (78), unasked."""
    fake = scripted([ok_bundle({"ONLY": b"v"})])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "INJECTOR_AGENT": fake.url,
        "DB": "ref+s3://b/k",
    }
    done = runner.run(env, "--", "true")
    assert done.returncode == 78
    assert "DB" in done.err
    assert fake.asked == 0


def test_whoami_command_prints_what_the_agent_sees(
    scripted: Callable[[list[bytes]], ScriptedAgent],
) -> None:
    """`injector agent whoami` prints the agent's answer as sorted JSON and exits 0."""
    seen = {"pid": 7, "container_id": CONTAINER, "policy": "pay"}
    fake = scripted([http(200, json.dumps(seen).encode())])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "INJECTOR_AGENT": fake.url}
    done = runner.run(env, "agent", "whoami", target_prints=True)
    assert done.returncode == 0, done.err
    assert json.loads(done.stdout) == seen


# -- serve's refusals and reload ---------------------------------------------------------


def test_unreadable_namespace_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve refuses to start when /proc/self/ns cannot be read (78, naming the file)."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if "/ns/" in str(path):
            raise OSError(13, "Permission denied")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    with pytest.raises(ConfigError, match="cannot read /proc/self/ns/pid"):
        serve.check_host()


def test_bind_refuses_a_directory_not_owned_by_root(short_dir: Path) -> None:
    """The socket's directory must be owned by root: someone else's is refused."""
    if os.geteuid() != 0:
        pytest.skip("needs root to chown the directory")
    directory = short_dir / "theirs"
    directory.mkdir()
    os.chown(directory, 1000, 1000)
    with pytest.raises(ConfigError, match="owned by root"):
        serve.bind(str(directory / "agent.sock"), None)  # type: ignore[arg-type]


def test_bind_replaces_a_stale_socket(start_agent: Callable[..., Served], short_dir: Path) -> None:
    """A socket file left by a dead agent is replaced, and the new agent answers on it."""
    sock = short_dir / "run" / "agent.sock"
    sock.parent.mkdir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))
    stale.close()
    agent = start_agent()
    assert client.whoami(agent.url, Deadline(5))["container_id"] == CONTAINER


def test_reload_keeps_socket_and_engine(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reload that changes socket or engine takes the policy but keeps both (restart needed)."""
    warnings: list[str] = []
    monkeypatch.setattr(serve.log, "warning", lambda event, **_kw: warnings.append(event))
    config = short_dir / "agent.toml"
    first = policy.parse(policy_text(short_dir / "a.sock").encode(), str(config))
    state = State(first, None)  # type: ignore[arg-type]
    changed = policy_text(short_dir / "b.sock", timeout="3s", engine_url="unix:///tmp/other.sock")
    config.write_text(changed, encoding="utf-8")
    serve.reload(state, str(config))
    assert warnings == ["agent_reload_needs_restart"]
    assert state.policy.settings.socket == str(short_dir / "a.sock")
    assert state.policy.settings.engine == first.settings.engine
    assert state.policy.settings.request_timeout == 3.0


def test_load_refuses_a_missing_optional_reference(
    moto: MotoServer, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy reference marked optional that does not exist is still a refusal (78)."""
    Seeder(moto.url).object(BUCKET, "other", "x")
    for name, value in aws_env_for(moto.url, short_dir).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="the policy is missing"):
        serve.load(f"ref+s3://{BUCKET}/none.toml?optional=true", timeout=20)
    with pytest.raises(ConfigError, match="cannot read"):
        serve.load(str(short_dir / "none.toml"))


# -- the engine client against a misbehaving engine ---------------------------------------


class BrokenEngine:
    """A Docker Engine API on a Unix socket whose container answers are chosen by the test."""

    def __init__(self, path: Path, container: tuple[int, bytes]) -> None:
        """Serve /version and /_ping, and *container* for GET /containers/ID/json."""
        import http.server

        answers = {"/version": (200, b'{"ApiVersion": "1.41"}'), "/_ping": (200, b"OK")}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path.startswith("/v1."):
                    path = path[path.index("/", 1) :]
                status, data = answers.get(path, container)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(str(path), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("container", "fragment"),
    [
        ((500, b'{"message": "daemon error"}'), "did not answer: APIError"),
        ((200, json.dumps({"Id": CONTAINER}).encode()), "answered without 'Image'"),
    ],
)
def test_engine_errors(short_dir: Path, container: tuple[int, bytes], fragment: str) -> None:
    """An engine error answer or an answer without the image is EngineError (503 to callers)."""
    sock = short_dir / "engine.sock"
    fake = BrokenEngine(sock, container)
    try:
        with pytest.raises(EngineError, match=fragment):
            engine.Engine(f"unix://{sock}", timeout=5).facts(CONTAINER)
    finally:
        fake.close()


def test_optional_missing_secret_is_left_out(
    moto: MotoServer, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy's optional reference that does not exist is simply not in the bundle."""
    Seeder(moto.url).object(BUCKET, "db", "cov-db-value")
    for name, value in aws_env_for(moto.url, short_dir).items():
        monkeypatch.setenv(name, value)
    text = (
        policy_text(short_dir / "a.sock") + f'env.NONE = "ref+s3://{BUCKET}/none?optional=true"\n'
    )
    rule = policy.parse(text.encode(), "test").rules[0]
    env, files = bundle.fetch(rule, 20)
    assert (sorted(env), files) == (["DB"], {})
    assert env["DB"].reveal() == b"cov-db-value"
