"""Small pieces of the agent: engine facts, labels, identity, answers, firewall, bundle."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys

import pytest

from injector.agent import bundle, client, decision, doctor, engine, identity
from injector.errors import (
    AccessDeniedError,
    BadDataError,
    ConfigError,
    SecretNotFoundError,
    UnavailableError,
)
from injector.secret import Secret

INFO = {
    "Id": "c" * 64,
    "Name": "/app",
    "Image": "sha256:" + "d" * 64,
    "State": {"Running": True, "Pid": 42, "StartedAt": "2026-12-02T00:35:26.123456789Z"},
    "Config": {"Labels": {"svc": "pay", "baked": "1", "over": "run"}},
    "HostConfig": {"Privileged": False, "PidMode": ""},
}
IMAGE = {"Config": {"Labels": {"baked": "1", "over": "image"}}}


def test_facts_and_run_time_labels() -> None:
    """Image labels with the same value are not run-time labels (unless trusted)."""
    facts = engine.facts_from(INFO, IMAGE)
    assert (facts.name, facts.pid, facts.running, facts.host_pid) == ("app", 42, True, False)
    assert engine.run_time_labels(facts, trust_image_labels=False) == {"svc": "pay", "over": "run"}
    assert engine.run_time_labels(facts, trust_image_labels=True) == INFO["Config"]["Labels"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02T00:35:26.123456789Z", 1796171726.123456789),
        ("2026-12-02T00:35:26Z", 1796171726.0),
        ("2026-12-02T01:35:26.5+01:00", 1796171726.5),
        ("0001-01-01T00:00:00Z", 0.0),
        ("", 0.0),
    ],
)
def test_parse_time(text: str, expected: float) -> None:
    """The engine's nanosecond RFC 3339 times parse to epoch seconds."""
    assert engine.parse_time(text) == pytest.approx(expected)


def test_start_time_field_with_spaces_in_the_name() -> None:
    """Field 22 is found even when the command name holds spaces and parentheses."""
    stat = "123 (a b) c) S " + " ".join(str(n) for n in range(4, 30))
    assert identity.start_time_field(stat) == "22"


def test_peer_of_a_socket_pair() -> None:
    """SO_PEERCRED names this process; both race defences see it alive."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        for use_pidfd in (True, False):
            peer = identity.peer_of(left, use_pidfd=use_pidfd)
            try:
                assert peer.pid == os.getpid()
                assert identity.alive(peer)
            finally:
                peer.close()


def test_dead_peer_is_not_alive() -> None:
    """A peer that exited after accept fails the last check on both paths."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0injector-test-" + str(os.getpid()))
    server.listen(1)
    code = (
        "import socket,time,sys; s=socket.socket(socket.AF_UNIX); "
        f"s.connect('\\0injector-test-{os.getpid()}'); sys.stdin.read()"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    conn, _ = server.accept()
    peers = [identity.peer_of(conn, use_pidfd=p) for p in (True, False)]
    assert all(identity.alive(p) for p in peers)
    child.communicate(b"", timeout=10)
    assert not any(identity.alive(p) for p in peers)
    for peer in peers:
        peer.close()
    conn.close()
    server.close()


def test_depth_below() -> None:
    """Depth is the number of PPid steps to the ancestor, None beyond the limit."""
    me = os.getpid()
    assert identity.depth_below(me, me, 0) == 0
    assert identity.depth_below(me, os.getppid(), 3) == 1
    assert identity.depth_below(me, -5, 3) is None


def test_starts_once() -> None:
    """A start is claimed once; a released claim can be claimed again."""
    starts = decision.Starts()
    key = ("c", 1.0)
    assert starts.reserve(key, keep=60)
    assert not starts.reserve(key, keep=60)
    starts.release(key)
    assert starts.reserve(key, keep=60)


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (403, {"error": "denied"}, AccessDeniedError, 77),
        (401, {"error": "caller gone"}, AccessDeniedError, 77),
        (409, {"error": "already"}, AccessDeniedError, 77),
        (404, {"kind": "not_found", "reference": "ref+s3://b/k"}, SecretNotFoundError, 66),
        (502, {"kind": "denied", "reference": "ref+s3://b/k"}, AccessDeniedError, 77),
        (502, {"kind": "unavailable"}, UnavailableError, 69),
        (404, {"kind": "denied"}, BadDataError, 65),
        (-1, {}, BadDataError, 65),
        (500, {"error": "x"}, BadDataError, 65),
    ],
)
def test_answer_errors(status: int, body: dict, error: type, code: int) -> None:
    """Every answer maps to direct mode's exit code."""
    err = client.answer_error(status, body, "unix:///s")
    assert isinstance(err, error)
    assert err.exit_code == code


def test_bundle_round_trip() -> None:
    """What the host encodes, the container decodes; a bad entry is a malformed answer."""
    raw = bundle.encode("r", {"A": Secret(b"\x00\xffv")}, {"K_FILE": Secret(b"key")})
    body = json.loads(raw)
    assert client._decode(body, "env") == {"A": Secret(b"\x00\xffv")}
    assert client._decode(body, "files") == {"K_FILE": Secret(b"key")}
    with pytest.raises(BadDataError):
        client._decode({"env": {"A": "***not base64"}}, "env")
    with pytest.raises(BadDataError):
        client._decode({"env": ["A"]}, "env")
    assert base64.b64decode(body["env"]["A"]) == b"\x00\xffv"


def test_socket_url() -> None:
    """Only unix:///PATH names an agent."""
    assert client.socket_path("unix:///run/injector/agent.sock") == "/run/injector/agent.sock"
    with pytest.raises(ConfigError):
        client.socket_path("tcp://127.0.0.1:1")


@pytest.mark.parametrize(
    ("rules", "status"),
    [
        ("-P DOCKER-USER ACCEPT\n-A DOCKER-USER -d 169.254.169.254/32 -j DROP\n", "ok"),
        ("-A DOCKER-USER -d 169.254.169.254/32 -p tcp -j REJECT\n", "ok"),
        ("-A DOCKER-USER -j RETURN\n", "warn"),
        ("-A DOCKER-USER -d 169.254.169.254/32 -j ACCEPT\n", "warn"),
        (None, "warn"),
    ],
)
def test_firewall(rules: str | None, status: str) -> None:
    """Doctor reads DOCKER-USER: only a DROP/REJECT of the metadata address is ok."""
    assert doctor.firewall(rules).status == status


def _caller(labels: dict[str, str], image_labels: dict[str, str]) -> decision.Caller:
    info = {**INFO, "Config": {"Labels": labels}}
    facts = engine.facts_from(info, {"Config": {"Labels": image_labels}})
    return decision.Caller(facts, engine.run_time_labels(facts, trust_image_labels=False), 1)


def test_choose() -> None:
    """One match wins; none, two, or a match only through an image label are denied."""
    from injector.agent import policy

    text = b"""version = 1
[[policy]]
name = "a"
match.labels = { team = "x" }
env.A = "ref+s3://b/a"
[[policy]]
name = "b"
match.labels = { tier = "web" }
env.B = "ref+s3://b/b"
"""
    parsed = policy.parse(text, "p.toml")
    assert decision.choose(_caller({"team": "x"}, {}), parsed).name == "a"
    cases = [
        (_caller({"team": "x", "tier": "web"}, {}), "ambiguous: matches a, b"),
        (_caller({"team": "y"}, {}), "no policy matches"),
        (_caller({"team": "x"}, {"team": "x"}), "no policy: image label not trusted"),
    ]
    for caller, reason in cases:
        with pytest.raises(decision.Denied) as denied:
            decision.choose(caller, parsed)
        assert (denied.value.status, denied.value.reason) == (403, reason)
        assert "a" not in denied.value.public.split()  # no policy names in the answer


def test_agent_option() -> None:
    """INJECTOR_AGENT takes unix:///PATH only (78 from the environment, 64 from --agent)."""
    from injector import config

    assert config.from_environment({"INJECTOR_AGENT": "unix:///run/a.sock"}).agent == (
        "unix:///run/a.sock"
    )
    assert config.from_environment({"INJECTOR_AGENT": ""}).agent is None
    with pytest.raises(ConfigError):
        config.from_environment({"INJECTOR_AGENT": "http://127.0.0.1:1"})
