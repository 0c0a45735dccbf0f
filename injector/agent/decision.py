"""From an identified peer to a decision: which container, which policy, may it have it now.

The steps run in the issue's order; each refusal is a :class:`Denied` carrying the HTTP
status, a public message (no policy names) and the reason for the audit line.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, NamedTuple

from injector.agent import cgroup, identity
from injector.agent.engine import EngineError, Facts, NoSuchContainerError, run_time_labels

if TYPE_CHECKING:
    from injector.agent.audit import Record
    from injector.agent.engine import Engine
    from injector.agent.identity import Peer
    from injector.agent.policy import Policy, Rule

FORBIDDEN = 403
GONE = 401
CONFLICT = 409
ENGINE_DOWN = 503


class Denied(Exception):  # noqa: N818 - a decision, not a malfunction
    """A refusal: status, public message, audit reason."""

    def __init__(self, status: int, public: str, reason: str, *, alert: bool = False) -> None:
        """Keep what the client and the audit line are told."""
        super().__init__(reason)
        self.status = status
        self.public = public
        self.reason = reason
        self.alert = alert


class Caller(NamedTuple):
    """An identified container caller."""

    facts: Facts
    labels: dict[str, str]
    depth: int


class Starts:
    """Container starts that already had their delivery (Id + State.StartedAt)."""

    def __init__(self) -> None:
        """Start empty."""
        self._done: dict[tuple[str, float], float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: tuple[str, float], keep: float) -> bool:
        """Claim *key*; False when it was claimed already. Forgets claims older than *keep*."""
        now = time.time()
        with self._lock:
            for old in [k for k, at in self._done.items() if now - at > keep]:
                del self._done[old]
            if key in self._done:
                return False
            self._done[key] = now
            return True

    def release(self, key: tuple[str, float]) -> None:
        """Give back a claim whose delivery did not happen."""
        with self._lock:
            self._done.pop(key, None)


def identify(peer: Peer, policy: Policy, engine: Engine, record: Record) -> Caller:
    """Run steps 2-5: container ID, engine facts, pid namespace, caller depth, labels."""
    settings = policy.settings
    container = _container_id(peer)
    record.container_id = container
    facts = _facts(engine, container)
    record.container_name, record.image_id = facts.name, facts.image_id
    if not facts.running or facts.pid <= 0:
        raise Denied(FORBIDDEN, "denied", "container not running")
    _namespaces(peer, facts, policy)
    if facts.privileged and not settings.allow_privileged:
        raise Denied(FORBIDDEN, "denied", "privileged container (allow_privileged = false)")
    depth = _depth(peer, facts, settings.max_caller_depth)
    record.depth = depth
    labels = run_time_labels(facts, trust_image_labels=settings.trust_image_labels)
    return Caller(facts, labels, depth)


def _container_id(peer: Peer) -> str:
    try:
        found = cgroup.container_id(cgroup.read(peer.pid))
    except OSError:
        raise Denied(GONE, "caller gone", "peer exited before its cgroup was read") from None
    except cgroup.CgroupError as exc:
        raise Denied(FORBIDDEN, "denied", f"cgroup: {exc}") from None
    if found is None:
        raise Denied(FORBIDDEN, "denied", "not in a container (no engine cgroup)")
    return found


def _facts(engine: Engine, container: str) -> Facts:
    try:
        return engine.facts(container)
    except EngineError as exc:
        raise Denied(ENGINE_DOWN, "engine unavailable", str(exc)) from None
    except NoSuchContainerError:
        raise Denied(FORBIDDEN, "denied", "the engine knows no such container") from None


def _namespaces(peer: Peer, facts: Facts, policy: Policy) -> None:
    try:
        caller_ns = identity.pid_namespace(peer.pid)
        init_ns = identity.pid_namespace(facts.pid)
        host_ns = identity.pid_namespace("self")
    except OSError:
        raise Denied(GONE, "caller gone", "peer exited during the namespace check") from None
    if caller_ns != init_ns:
        raise Denied(FORBIDDEN, "denied", "pid namespace differs from the container's")
    if (facts.host_pid or init_ns == host_ns) and not policy.settings.allow_host_pid:
        raise Denied(FORBIDDEN, "denied", "host pid namespace (allow_host_pid = false)")


def _depth(peer: Peer, facts: Facts, limit: int) -> int:
    try:
        depth = identity.depth_below(peer.pid, facts.pid, limit)
    except (OSError, ValueError):
        raise Denied(GONE, "caller gone", "peer exited during the depth check") from None
    if depth is None:
        raise Denied(FORBIDDEN, "denied", f"caller not in the init chain within depth {limit}")
    return depth


def choose(caller: Caller, policy: Policy) -> Rule:
    """Step 5's use: exactly one policy must match the run-time labels and image."""
    facts = caller.facts
    rules = policy.match(caller.labels, facts.image_id)
    if len(rules) > 1:
        names = ", ".join(r.name for r in rules)
        raise Denied(FORBIDDEN, "denied", f"ambiguous: matches {names}")
    if rules:
        return rules[0]
    if policy.match(facts.labels, facts.image_id):
        raise Denied(FORBIDDEN, "denied", "no policy: image label not trusted")
    raise Denied(FORBIDDEN, "denied", "no policy matches")


def fresh(caller: Caller, policy: Policy) -> None:
    """Deny a start older than ``max_start_age``."""
    age = time.time() - caller.facts.started_at
    if age > policy.settings.max_start_age:
        limit = policy.settings.max_start_age
        raise Denied(FORBIDDEN, "denied", f"started {age:.1f}s ago, past max_start_age {limit:g}s")


def still_there(peer: Peer) -> None:
    """Step 6 (and again before the answer): the peer is alive, so its PID was not reused."""
    if not identity.alive(peer):
        raise Denied(GONE, "caller gone", f"peer gone or PID reused ({peer.defence} check)")
