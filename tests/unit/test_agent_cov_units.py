"""The agent's pieces on fake inputs: identity fallbacks, every refusal, doctor, policy errors."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from injector.agent import audit, cgroup, commands, decision, doctor, engine, identity, policy
from injector.agent.decision import Denied
from injector.agent.engine import EngineError, Facts, NoSuchContainerError
from injector.agent.server import Conn
from injector.errors import ConfigError

CONTAINER = "c" * 64
NOWHERE = 0x3FFFFFF0  # above any pid_max: never a live process


class FakeConn:
    """A connection whose getsockopt answers like the kernel would for a chosen peer."""

    def __init__(self, pid: int, pidfd: int | None = None) -> None:
        """Report *pid* through SO_PEERCRED and *pidfd* (None: ENOPROTOOPT) via option 77."""
        self.pid = pid
        self.pidfd = pidfd

    def getsockopt(self, _level: int, option: int, _size: int) -> bytes:
        """Answer SO_PEERCRED or SO_PEERPIDFD."""
        if option == socket.SO_PEERCRED:
            return struct.pack("3i", self.pid, os.getuid(), os.getgid())
        if self.pidfd is None:
            raise OSError(92, "Protocol not available")
        return struct.pack("i", self.pidfd)


def test_peer_without_a_pid_is_refused() -> None:
    """A peer SO_PEERCRED reports as pid 0 (another pid namespace) cannot be pinned down."""
    with pytest.raises(identity.PeerGoneError, match="no process"):
        identity.peer_of(FakeConn(0))  # type: ignore[arg-type]


def test_no_pidfd_falls_back_to_the_start_time() -> None:
    """Without SO_PEERPIDFD the peer is pinned by /proc/PID and its start time, and alive."""
    peer = identity.peer_of(FakeConn(os.getpid()))  # type: ignore[arg-type]
    try:
        assert peer.defence == identity.START_TIME
        assert peer.proc_fd >= 0
        assert peer.start_time
        assert identity.alive(peer)
        assert identity.proc_path(peer) == f"/proc/{os.getpid()}"
    finally:
        peer.close()
    assert peer.proc_fd == -1


def test_pidfd_of_an_exited_peer_is_refused() -> None:
    """A pidfd that is already readable (the peer exited) fails at accept and is closed."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    pidfd = os.pidfd_open(child.pid)
    child.wait()
    with pytest.raises(identity.PeerGoneError, match="exited"):
        identity.peer_of(FakeConn(os.getpid(), pidfd))  # type: ignore[arg-type]


def test_missing_proc_entry_is_refused() -> None:
    """No /proc/PID for the peer (it is gone) means it cannot be pinned down."""
    with pytest.raises(identity.PeerGoneError, match="exited"):
        identity.peer_of(FakeConn(NOWHERE), use_pidfd=False)  # type: ignore[arg-type]


def test_unreadable_start_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stat file that cannot be read through the descriptor refuses the peer."""

    def short(_stat: str) -> str:
        raise OSError("short stat line")

    monkeypatch.setattr(identity, "start_time_field", short)
    with pytest.raises(identity.PeerGoneError, match="exited"):
        identity.peer_of(FakeConn(os.getpid()), use_pidfd=False)  # type: ignore[arg-type]


def test_changed_start_time_is_not_alive() -> None:
    """A pinned start time that differs from /proc's (PID reused) fails the last check."""
    peer = identity.peer_of(FakeConn(os.getpid()), use_pidfd=False)  # type: ignore[arg-type]
    try:
        peer.start_time = "1"
        assert not identity.alive(peer)
    finally:
        peer.close()


def test_short_stat_line() -> None:
    """A stat line without field 22 is an OSError, not an index error."""
    with pytest.raises(OSError, match="short"):
        identity.start_time_field("1 (x) S 1 2 3")


def test_pidfd_support_when_the_kernel_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """pidfd_supported is False when SO_PEERPIDFD is refused (kernels before 6.5)."""

    def refused(self: socket.socket, *_args: object) -> bytes:
        raise OSError(92, "Protocol not available")

    monkeypatch.setattr(socket.socket, "getsockopt", refused)
    assert identity.pidfd_supported() is False


def fake_proc(root: Path, parents: dict[int, int | None]) -> str:
    """Write /proc/PID/status files (None: a status without PPid); return the root."""
    for pid, parent in parents.items():
        (root / str(pid)).mkdir()
        line = f"PPid:\t{parent}\n" if parent is not None else "Name:\tx\n"
        (root / str(pid) / "status").write_text("Name:\tx\n" + line, encoding="utf-8")
    return str(root)


def test_parent_and_depth_on_a_fake_proc(tmp_path: Path) -> None:
    """PPid steps stop at init (None), and a status without PPid is an OSError."""
    proc = fake_proc(tmp_path, {5: 1, 6: None})
    assert identity.depth_below(5, 99, 5, proc) is None
    with pytest.raises(OSError, match="no PPid"):
        identity.parent_of(6, proc)


# -- decision ----------------------------------------------------------------------------


def facts(**changes: Any) -> Facts:
    """Return a running container's facts whose init is this process."""
    base = Facts(
        id=CONTAINER,
        name="app",
        image_id="sha256:" + "d" * 64,
        running=True,
        pid=os.getpid(),
        started_at=0.0,
        labels={"svc": "pay"},
        image_labels={},
        privileged=False,
        host_pid=False,
    )
    return base._replace(**changes)


class Engine:
    """Answers with fixed facts or raises a chosen error."""

    def __init__(self, error: Exception | None = None) -> None:
        """Remember the error to raise (None: answer)."""
        self.error = error

    def facts(self, container_id: str) -> Facts:
        """Return the facts or raise."""
        if self.error is not None:
            raise self.error
        return facts(id=container_id)


POLICY = policy.parse(
    b"""version = 1
[agent]
allow_host_pid = true
[[policy]]
name = "pay"
match.labels = { svc = "pay" }
env.DB = "ref+s3://b/db"
""",
    "test",
)


def peer() -> identity.Peer:
    """Return a peer for this process (no descriptors)."""
    return identity.Peer(os.getpid(), os.getuid(), os.getgid(), identity.START_TIME)


def refusal(monkeypatch: pytest.MonkeyPatch, engine_: Engine, **patches: Any) -> Denied:
    """Run identify with cgroup/identity functions patched; return the Denied it raises."""
    monkeypatch.setattr(cgroup, "read", lambda *_a, **_k: f"0::/docker/{CONTAINER}\n")
    for name, value in patches.items():
        module, attribute = name.split("__")
        monkeypatch.setattr({"cgroup": cgroup, "identity": identity}[module], attribute, value)
    with pytest.raises(Denied) as denied:
        decision.identify(peer(), POLICY, engine_, audit.Record())  # type: ignore[arg-type]
    return denied.value


def fails(*_args: object, **_kwargs: object) -> Any:
    """Raise like a /proc entry of a process that exited."""
    raise OSError(3, "No such process")


def namespaces(*answers: tuple[int, int]) -> Any:
    """Return a pid_namespace stand-in answering caller, init and ``self`` in turn."""
    order = iter(answers)
    return lambda _pid, _proc="/proc": next(order)


@pytest.mark.parametrize(
    ("error", "patches", "status", "reason"),
    [
        (None, {"cgroup__read": fails}, 401, "before its cgroup was read"),
        (EngineError("down"), {}, 503, "down"),
        (NoSuchContainerError(CONTAINER), {}, 403, "no such container"),
        (None, {"identity__pid_namespace": fails}, 401, "namespace check"),
        (
            None,
            {"identity__pid_namespace": namespaces((1, 2), (1, 3), (1, 4))},
            403,
            "pid namespace differs",
        ),
        (None, {"identity__depth_below": fails}, 401, "depth check"),
        (None, {"identity__depth_below": lambda *_a: None}, 403, "init chain within depth"),
    ],
)
def test_every_identify_refusal(
    monkeypatch: pytest.MonkeyPatch,
    error: Exception | None,
    patches: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    """Each failed identification step is refused with its status and audit reason."""
    denied = refusal(monkeypatch, Engine(error), **patches)
    assert denied.status == status
    assert reason in denied.reason


def test_host_pid_refused_without_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller in the host's pid namespace is refused unless allow_host_pid is true."""
    strict = POLICY._replace(settings=POLICY.settings._replace(allow_host_pid=False))
    monkeypatch.setattr(cgroup, "read", lambda *_a, **_k: f"0::/docker/{CONTAINER}\n")
    monkeypatch.setattr(identity, "pid_namespace", namespaces((1, 2), (1, 2), (1, 2)))
    with pytest.raises(Denied, match="host pid namespace"):
        decision.identify(peer(), strict, Engine(), audit.Record())  # type: ignore[arg-type]


def test_still_there_refuses_a_gone_peer() -> None:
    """A peer whose start time no longer matches is refused with 401, naming the defence."""
    gone = identity.Peer(NOWHERE, 0, 0, identity.START_TIME, start_time="1")
    with pytest.raises(Denied, match="start_time check") as denied:
        decision.still_there(gone)
    assert denied.value.status == decision.GONE


def test_old_claims_are_forgotten() -> None:
    """A claim older than the keep window is dropped, so the same start can be claimed again."""
    starts = decision.Starts()
    assert starts.reserve(("a", 1.0), keep=86400)
    assert not starts.reserve(("a", 1.0), keep=86400)
    assert starts.reserve(("a", 1.0), keep=-1)


# -- engine, server address --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1970-01-01T00:01:00",
        "1970-01-01T00:01:00+00:00",
        "1970-01-01T01:01:00+01:00",
        "1969-12-31T23:01:00-01:00",
    ],
)
def test_parse_time_with_an_offset_and_no_fraction(text: str) -> None:
    """An RFC 3339 time with an explicit offset and no fraction parses (it used to crash)."""
    assert engine.parse_time(text) == 60.0


def test_conn_looks_like_an_address() -> None:
    """The client-address slot names the peer's pid, or 'unknown' when it was gone."""
    assert Conn(peer())[0] == f"pid {os.getpid()}"
    assert Conn(None, "gone")[0] == "unknown"


# -- doctor ------------------------------------------------------------------------------


class Done:
    """A finished iptables run."""

    def __init__(self, code: int, out: str) -> None:
        """Keep the exit code and output."""
        self.returncode = code
        self.stdout = out


def test_rules_try_each_iptables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing iptables is skipped and a failing one passed over until one reads the chain."""
    found = {"iptables": "/sbin/iptables", "iptables-nft": "/sbin/iptables-nft"}
    runs: list[str] = []

    def run(argv: list[str], **_kwargs: object) -> Done:
        runs.append(argv[0])
        if argv[0] == "/sbin/iptables":
            return Done(1, "")
        return Done(0, "-A DOCKER-USER -d 169.254.169.254/32 -j DROP\n")

    monkeypatch.setattr(doctor.shutil, "which", found.get)
    monkeypatch.setattr(doctor.subprocess, "run", run)
    rules = doctor._rules()
    assert runs == ["/sbin/iptables", "/sbin/iptables-nft"]
    assert doctor.firewall(rules).status == "ok"
    monkeypatch.setattr(doctor.shutil, "which", lambda _tool: None)
    assert doctor._rules() is None


def test_doctor_text_report_on_a_bad_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Unreadable namespaces, a silent engine and no pidfd: failing lines, exit 78."""
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if "/ns/" in str(path):
            raise OSError(13, "Permission denied")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(engine.Engine, "ping", lambda _self: False)
    monkeypatch.setattr(identity, "pidfd_supported", lambda: False)
    monkeypatch.setattr(doctor, "_rules", lambda: None)
    code = commands.run("doctor", None, str(tmp_path / "missing.toml"), {})  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert code == 78
    assert "fail  pid namespace: not the host's" in out
    assert "fail  engine: unix:///var/run/docker.sock does not answer" in out
    assert "warn  SO_PEERPIDFD: not supported" in out
    assert "warn  metadata service: cannot read" in out


def test_doctor_json_dispatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`agent doctor --json` prints every check as a JSON list, one object per check."""
    monkeypatch.setattr(engine.Engine, "ping", lambda _self: True)
    monkeypatch.setattr(doctor, "_rules", lambda: "-A DOCKER-USER -d 169.254.169.254 -j REJECT")
    commands.run("doctor", None, str(tmp_path / "x.toml"), {"--json": None})  # type: ignore[arg-type]
    checks = {c["name"]: c["status"] for c in json.loads(capsys.readouterr().out)}
    assert checks["engine"] == "ok"
    assert checks["metadata service"] == "ok"


def test_serve_dispatch_refuses_a_non_root_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """`agent serve` as a non-root user stops before reading the policy (ConfigError, 78)."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(ConfigError, match="root"):
        commands.run("serve", None, "/nonexistent.toml", {})  # type: ignore[arg-type]


# -- policy ------------------------------------------------------------------------------

HEAD = 'version = 1\n[[policy]]\nname = "a"\nmatch.labels = { t = "x" }\nenv.A = "ref+s3://b/a"\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version = 1\npolicy = 3\n", "policy: must be an array of tables"),
        ("version = 1\nagent = 3\n", "agent: must be a table"),
        ('version = 1\n[agent]\nsocket = "rel/a.sock"\n', "agent.socket: must be an absolute"),
        ('version = 1\n[agent]\nengine = ""\n', "agent.engine: must be a non-empty string"),
        ("version = 1\n[agent]\nengine = 5\n", "agent.engine: must be a non-empty string"),
        ('version = 1\n[agent]\nmax_start_age = "2d"\n', "agent.max_start_age: expected"),
        ("version = 1\n[agent]\nrequest_timeout = 0\n", "more than 0 and at most one day"),
        ('version = 1\n[agent]\nmax_start_age = "25h"\n', "more than 0 and at most one day"),
        (HEAD.replace('"a"', '"-bad"'), "policy[0].name: required"),
        (HEAD + 'files.A = "ref+s3://b/f"\nenv.A_FILE = "ref+s3://b/g"\n', "go in files"),
        (HEAD.replace('{ t = "x" }', "{ t = 1 }"), "match.labels.t: must be a string"),
        (HEAD + 'match.image_ids = "sha256:x"\n', "image_ids: must be a list of strings"),
        ('version = 1\n[[policy]]\nname = "a"\nmatch = 1\n', "policy.a.match: must be a table"),
    ],
)
def test_policy_validation_errors(text: str, fragment: str) -> None:
    """Each malformed value is refused with a message naming the key at fault."""
    with pytest.raises(ConfigError, match="test: ") as error:
        policy.parse(text.encode(), "test")
    assert fragment in error.value.message


def test_check_config_json_reports_ambiguity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config --json lists policies and the ambiguous pair, and exits 78."""
    second = HEAD.replace('"a"', '"b"').replace("version = 1\n", "")
    (tmp_path / "agent.toml").write_text(HEAD + second, encoding="utf-8")
    code = commands.check_config(str(tmp_path / "agent.toml"), as_json=True)
    report = json.loads(capsys.readouterr().out)
    assert code == 78
    assert report["ok"] is False
    assert report["ambiguous"] == [["a", "b"]]
    assert report["policies"] == [
        {"name": "a", "variables": ["A"]},
        {"name": "b", "variables": ["A"]},
    ]


def test_cgroup_file_with_too_many_lines_is_refused() -> None:
    """A cgroup file longer than any real one is refused rather than scanned."""
    with pytest.raises(cgroup.CgroupError, match="too many lines"):
        cgroup.container_id("0::/\n" * (cgroup.MAX_LINES + 1))
