"""``injector agent serve``: HTTP/1.1 on a Unix socket, one request per connection.

The peer is identified in :meth:`AgentServer.get_request`, right after ``accept`` and before a
byte is read. Each connection has its own thread and a hard deadline (``request_timeout``):
a client that sends nothing is closed then, while others are served.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from injector import log
from injector.agent import audit, bundle, decision, identity
from injector.agent.decision import Denied

if TYPE_CHECKING:
    from injector.agent.engine import Engine
    from injector.agent.policy import Policy, Rule

BUNDLE_PATH = "/v1/bundle"
WHOAMI_PATH = "/v1/whoami"
MAX_IN_FLIGHT = 256


class State:
    """What every request reads: the policy in force (swapped on reload), engine, starts."""

    def __init__(self, policy: Policy, engine: Engine) -> None:
        """Hold the first policy."""
        self.policy = policy
        self.engine = engine
        self.starts = decision.Starts()
        self.use_pidfd = os.environ.get(identity.NO_PIDFD_VARIABLE) != "1"


class Conn:
    """The client address slot: the peer taken on accept (None when it was already gone)."""

    def __init__(self, peer: identity.Peer | None, error: str = "") -> None:
        """Keep the peer and why it is missing."""
        self.peer = peer
        self.error = error

    def __getitem__(self, _index: int) -> str:
        """Look like an address to http.server."""
        return f"pid {self.peer.pid}" if self.peer else "unknown"


class AgentServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """A threading Unix-socket server that takes the peer's identity on accept."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, path: str, state: State) -> None:
        """Bind *path* (the caller prepared its directory)."""
        self.state = state
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        super().__init__(path, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept, then pin the peer down at once."""
        conn, _ = self.socket.accept()
        try:
            peer = identity.peer_of(conn, use_pidfd=self.state.use_pidfd)
        except (identity.PeerGoneError, OSError) as exc:
            return conn, Conn(None, str(exc))
        return conn, Conn(peer)

    def process_request(self, request: Any, client_address: Any) -> None:  # noqa: ANN401
        """Refuse (close) when too many connections are in flight; else start a thread."""
        if not self._slots.acquire(blocking=False):
            log.warning("agent_busy", in_flight=MAX_IN_FLIGHT)
            self._release(client_address)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:  # noqa: ANN401
        """Serve one connection, then release its descriptors and slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(client_address)
            self._slots.release()

    def _release(self, client_address: Any) -> None:  # noqa: ANN401
        if isinstance(client_address, Conn) and client_address.peer is not None:
            client_address.peer.close()

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ANN401, ARG002
        """Log one line, never a traceback (it could hold locals)."""
        import sys  # noqa: PLC0415

        kind = sys.exc_info()[0]
        log.error("agent_request_error", error=kind.__name__ if kind else "unknown")


class Handler(BaseHTTPRequestHandler):
    """``GET /v1/bundle`` and ``GET /v1/whoami``; everything else is a 4xx and a close."""

    protocol_version = "HTTP/1.1"
    server_version = "injector-agent"
    sys_version = ""
    server: AgentServer
    client_address: Conn  # type: ignore[assignment]

    def setup(self) -> None:
        """Arm the connection's deadline: a silent client is shut down when it passes."""
        self.seconds = self.server.state.policy.settings.request_timeout
        self.request.settimeout(self.seconds)
        super().setup()
        self.record = audit.Record()
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        """Disarm the deadline."""
        self._timer.cancel()
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        """One request per connection, then its audit line."""
        self.close_connection = True
        self.status = 0
        try:
            self.handle_one_request()
        except OSError:
            self.record.reason += " (connection error)"
        if not self.status:
            self._peer_fields()
            self.record.reason = self.record.reason or "no request before the deadline or close"
            self.status = 408
        self.record.emit(self.status)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401
        """http.server's own lines are replaced by the audit line."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:  # noqa: ARG002
        """Answer a protocol error with a small JSON body, close, and audit it."""
        self.record.path = getattr(self, "path", "")[:64]
        self.record.reason = f"bad request: {message or code}"
        self._peer_fields()
        self._answer(code, {"error": message or "bad request", "kind": "bad_request"})
        self.status = code

    def do_GET(self) -> None:
        """Route the request."""
        self.record.path = self.path[:64]
        self._peer_fields()
        if self.request_version == "HTTP/0.9" or self._has_body():  # before _answer resets it
            self._deny(Denied(400, "bad request", "body on GET or HTTP/0.9"))
            return
        routes = {BUNDLE_PATH: self._bundle, WHOAMI_PATH: self._whoami}
        route = routes.get(self.path)
        if route is None:
            self._deny(Denied(404, "unknown path", "unknown path"))
            return
        try:
            route()
        except Denied as denied:
            self._deny(denied)
        except Exception as exc:  # noqa: BLE001 - answer, log the class only (no traceback)
            self._deny(Denied(500, "internal error", f"internal error: {type(exc).__name__}"))

    def _has_body(self) -> bool:
        length = self.headers.get("Content-Length", "0").strip()
        return length not in {"", "0"} or "Transfer-Encoding" in self.headers

    def _peer_fields(self) -> None:
        peer = self.client_address.peer
        if peer is not None:
            self.record.pid, self.record.uid, self.record.defence = peer.pid, peer.uid, peer.defence

    def _peer(self) -> identity.Peer:
        peer = self.client_address.peer
        if peer is None:
            raise Denied(decision.GONE, "caller gone", self.client_address.error or "no peer")
        return peer

    def _bundle(self) -> None:
        peer = self._peer()
        state = self.server.state
        policy = state.policy
        caller = decision.identify(peer, policy, state.engine, self.record)
        rule = decision.choose(caller, policy)
        self.record.policy = rule.name
        self.record.variables = list(rule.deliveries())
        decision.fresh(caller, policy)
        decision.still_there(peer)
        key = (caller.facts.id, caller.facts.started_at)
        if policy.settings.once_per_start and not state.starts.reserve(key, keep=86400):
            reason = "second request for this container start (once_per_start)"
            raise Denied(decision.CONFLICT, "already delivered for this start", reason, alert=True)
        delivered = False
        try:
            delivered = self._deliver(peer, rule)
        finally:
            if not delivered:  # a refused or failed request does not use up the start
                state.starts.release(key)

    def _deliver(self, peer: identity.Peer, rule: Rule) -> bool:
        left = max(0.5, self.seconds - self.record.elapsed())
        try:
            env, files = bundle.fetch(rule, left)
        except bundle.FetchError as exc:
            self.record.reason = f"secret {exc.body.get('kind')}: {exc.body.get('reference')}"
            self._answer(exc.status, exc.body)
            return False
        decision.still_there(peer)  # last: the answer goes to the very process that asked
        self.record.reason = "delivered"
        return self._answer(200, None, raw=bundle.encode(self.record.request_id, env, files))

    def _whoami(self) -> None:
        peer = self._peer()
        state = self.server.state
        caller = decision.identify(peer, state.policy, state.engine, self.record)
        decision.still_there(peer)
        facts = caller.facts
        rules = state.policy.match(caller.labels, facts.image_id)
        self.record.reason = "whoami"
        self._answer(
            200,
            {
                "pid": peer.pid,
                "uid": peer.uid,
                "container_id": facts.id,
                "container_name": facts.name,
                "image_id": facts.image_id,
                "run_time_labels": caller.labels,
                "depth": caller.depth,
                "race_defence": peer.defence,
                "policy": rules[0].name if len(rules) == 1 else None,
                "variables": sorted(rules[0].deliveries()) if len(rules) == 1 else [],
            },
        )

    def _deny(self, denied: Denied) -> None:
        self.record.reason = denied.reason
        self.record.alert = denied.alert
        self._answer(denied.status, {"error": denied.public, "kind": "denied"})

    def _answer(
        self, status: int, body: dict[str, object] | None, raw: bytes | None = None
    ) -> bool:
        """Write the whole answer and close; True when it was written."""
        if raw is None:
            raw = json.dumps({**(body or {}), "request_id": self.record.request_id}).encode()
        self.close_connection = True
        self.status = status
        self.request_version = self.protocol_version  # status line and headers, always
        try:
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(raw)
            self.wfile.flush()
        except OSError:
            self.record.reason += " (client went away)"
            return False
        return True
