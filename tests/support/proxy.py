"""A threaded reverse proxy on 127.0.0.1 that records AWS calls and injects faults.

Put it between a client and moto (``AWS_ENDPOINT_URL=proxy.url``). Every request is forwarded
byte-for-byte (Host included, so SigV4 still validates) and recorded as a :class:`Call` with the
service (from the SigV4 credential scope) and the operation (``X-Amz-Target``, the query
protocol's ``Action``, or S3's method + path).

Fault rules are evaluated in the order they were added. Every matching rule that fires (its
``times`` not used up, its ``probability`` roll won) sleeps its ``delay``; the first firing rule
with an action (error, drop, reset, truncate, reply) decides the answer, otherwise the request
is forwarded. ``reply`` serves a body of the test's choosing (status ``reply_status``, type
``reply_type``): the answers a real store should never give. ``close_delimited`` sends a reply or
a truncated answer without Content-Length, ended by closing the connection.
``deny_sse_kms`` rules look at moto's answer instead: a GetObject whose response
says ``x-amz-server-side-encryption: aws:kms`` becomes S3's AccessDenied for the KMS key.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import socket
import struct
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

if TYPE_CHECKING:
    from email.message import Message

HOST = "127.0.0.1"
UPSTREAM_TIMEOUT = 120.0
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "proxy-connection",
    }
)
SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/")
NO_BODY_STATUSES = frozenset({204, 304})


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ErrorShape:
    """One error in each protocol's spelling: JSON (KMS/SSM/SM), S3 XML, query XML (STS/IAM)."""

    json_code: str
    json_status: int
    s3_code: str
    s3_status: int
    query_code: str
    message: str
    s3_message: str = ""


THROTTLE = ErrorShape(
    "ThrottlingException",
    400,
    "SlowDown",
    503,
    "Throttling",
    "Rate exceeded",
    "Please reduce your request rate.",
)
DENIED = ErrorShape(
    "AccessDeniedException", 400, "AccessDenied", 403, "AccessDenied", "Access Denied"
)
INTERNAL = ErrorShape(
    "InternalFailure",
    500,
    "InternalError",
    500,
    "InternalFailure",
    "We encountered an internal error. Please try again.",
)
UNAVAILABLE = ErrorShape(
    "ServiceUnavailableException",
    503,
    "ServiceUnavailable",
    503,
    "ServiceUnavailable",
    "Service is unable to handle request.",
)
ERRORS = {
    "ThrottlingException": THROTTLE,
    "SlowDown": THROTTLE,
    "Throttling": THROTTLE,
    "AccessDeniedException": DENIED,
    "AccessDenied": DENIED,
    "InternalFailure": INTERNAL,
    "InternalError": INTERNAL,
    "ServiceUnavailable": UNAVAILABLE,
    "ServiceUnavailableException": UNAVAILABLE,
}
BY_STATUS = {500: INTERNAL, 503: UNAVAILABLE, 403: DENIED}


def error_shape(name: str | None, status: int | None) -> ErrorShape:
    """Return the shape for error *name* (translated per protocol) or for a bare *status*."""
    if name is None:
        return BY_STATUS.get(status or 500, INTERNAL)
    known = ERRORS.get(name)
    if known is not None:
        return known
    code_status = status or 400
    return ErrorShape(name, code_status, name, code_status, name, name)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Call:
    """One request the proxy saw: ``(service, operation)`` plus what it did with it."""

    service: str
    operation: str
    method: str
    path: str
    fault: str | None = None
    access_key: str = ""  # the SigV4 access key id that signed the request
    body: bytes = b""
    region: str = ""  # the SigV4 credential scope's region


@dataclass(frozen=True)
class Request:
    """A request as read from the client."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        """Return the decoded path without the query."""
        return urllib.parse.unquote(urllib.parse.urlsplit(self.target).path)

    @property
    def query(self) -> dict[str, str]:
        """Return the query parameters (blank values kept, e.g. ``?uploads``)."""
        raw = urllib.parse.urlsplit(self.target).query
        return dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        """Return the first header called *name* (case-insensitive)."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def _credential(self, pattern: re.Pattern[str]) -> str:
        """Return *pattern*'s group from the SigV4 Authorization header or presigned URL."""
        for text in (self.header("Authorization"), self.query.get("X-Amz-Credential")):
            found = pattern.search(text or "") or pattern.search(f"Credential={text or ''}")
            if found:
                return found.group(1)
        return ""

    @property
    def service(self) -> str:
        """Return the SigV4 credential scope's service, or ``moto-api``, or ``""``."""
        service = self._credential(SCOPE)
        return service or ("moto-api" if self.path.startswith("/moto-api") else "")

    @property
    def region(self) -> str:
        """Return the region of the SigV4 credential scope, or ``""``."""
        return self._credential(REGION)

    @property
    def access_key(self) -> str:
        """Return the access key id that signed the request, or ``""``."""
        return self._credential(ACCESS_KEY)

    @property
    def operation(self) -> str:
        """Return the API operation name (``Decrypt``, ``GetParameters``, ``GetObject``...)."""
        target = self.header("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.service == "s3":
            return s3_operation(self.method, self.path, self.query, self.header)
        action = self.query.get("Action") or _form_action(self.body)
        return action or f"{self.method} {self.path}"

    @property
    def protocol(self) -> str:
        """Return ``json``, ``s3`` or ``query``: how errors must be spelled for this request."""
        if self.header("X-Amz-Target") or "json" in (self.header("Content-Type") or ""):
            return "json"
        return "s3" if self.service == "s3" else "query"


def _form_action(body: bytes) -> str | None:
    """Return ``Action`` from a query-protocol form body, if it is one."""
    if not body or b"Action=" not in body:
        return None
    pairs = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return pairs.get("Action", [None])[0]


def s3_operation(method: str, path: str, query: dict[str, str], header: Any) -> str:
    """Name the S3 operation of a path-style request."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets"
    if key:
        return _s3_object_operation(method, query, header("x-amz-copy-source"))
    return _s3_bucket_operation(method, query)


def _s3_object_operation(method: str, query: dict[str, str], copy: str | None) -> str:
    """Name an operation on an object."""
    if "uploads" in query:
        return "CreateMultipartUpload"
    if "uploadId" in query:
        return {
            "PUT": "UploadPartCopy" if copy else "UploadPart",
            "POST": "CompleteMultipartUpload",
            "DELETE": "AbortMultipartUpload",
        }.get(method, "ListParts")
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head"}.get(method, method)
    for sub, name in (("tagging", "Tagging"), ("acl", "Acl"), ("attributes", "Attributes")):
        if sub in query:
            return f"{verb}Object{name}"
    if method == "PUT" and copy:
        return "CopyObject"
    return f"{verb}Object"


def _s3_bucket_operation(method: str, query: dict[str, str]) -> str:
    """Name an operation on a bucket."""
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method == "GET":
        for sub, name in (
            ("list-type", "ListObjectsV2"),
            ("versions", "ListObjectVersions"),
            ("uploads", "ListMultipartUploads"),
        ):
            if sub in query:
                return name
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method)
    sub = next((k for k in query if k[:1].islower() and not k.startswith("x-")), "")
    if sub:
        return f"{verb}Bucket{sub[:1].upper()}{sub[1:]}"
    return {"GET": "ListObjects", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(
        method, f"{method}Bucket"
    )


# --------------------------------------------------------------------------- rules


class RuleSpec(TypedDict, total=False):
    """Keyword arguments of :meth:`Proxy.add_rule`."""

    service: str
    operation: str
    key: str
    body: str
    times: int
    probability: float
    delay: float
    error: str
    status: int
    message: str
    drop: bool
    reset: bool
    truncate: int
    deny_sse_kms: bool
    reply: bytes
    reply_status: int
    reply_type: str
    close_delimited: bool


@dataclass
class Rule:
    """A fault: filters (service, operation, key = path substring, body substring), when, what."""

    service: str | None = None
    operation: str | None = None
    key: str | None = None
    body: str | None = None
    times: int | None = None
    probability: float | None = None
    delay: float = 0.0
    error: str | None = None
    status: int | None = None
    message: str | None = None
    drop: bool = False
    reset: bool = False
    truncate: int | None = None
    deny_sse_kms: bool = False
    reply: bytes | None = None
    reply_status: int = 200
    reply_type: str = "application/x-amz-json-1.1"
    close_delimited: bool = False
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        """Reject rules with two actions."""
        chosen = [
            self.error is not None or self.status is not None,
            self.drop,
            self.reset,
            self.truncate is not None,
            self.deny_sse_kms,
            self.reply is not None,
        ]
        if sum(chosen) > 1:
            raise ValueError(
                "a rule takes at most one of error/status, drop, reset, truncate, "
                "deny_sse_kms, reply"
            )

    @property
    def action(self) -> str | None:
        """Return the action: error, drop, reset, truncate, deny_sse_kms, reply (or None)."""
        if self.error is not None or self.status is not None:
            return "error"
        if self.reply is not None:
            return "reply"
        for name in ("drop", "reset", "deny_sse_kms"):
            if getattr(self, name):
                return name
        return "truncate" if self.truncate is not None else None

    def matches(self, req: Request) -> bool:
        """Return True when the request passes every filter of this rule."""
        return (
            self.service in (None, req.service)
            and self.operation in (None, req.operation)
            and (self.key is None or self.key in req.path)
            and (self.body is None or self.body.encode() in req.body)
        )


# --------------------------------------------------------------------------- proxy


class _Server(ThreadingHTTPServer):
    """Many concurrent daemon handler threads, a deep accept queue, no join on close."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True
    proxy: Proxy


class Proxy:
    """The recording, fault-injecting reverse proxy. ``start()`` it, then use ``url``."""

    def __init__(self, upstream: str, seed: int = 0) -> None:
        """Forward to *upstream* (``http://127.0.0.1:PORT``); *seed* drives probability rules."""
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or HOST, parts.port or 80)
        self._rng = random.Random(seed)  # noqa: S311 - fault dice, not cryptography
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._calls: list[Call] = []
        self._in_flight = 0
        self.max_in_flight = 0
        self._stopped = threading.Event()
        self._conns: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return ``http://127.0.0.1:PORT`` of the proxy."""
        if self._server is None:
            raise RuntimeError("proxy not started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> Proxy:
        """Listen on a random port of 127.0.0.1 and serve in a daemon thread."""
        self._server = _Server((HOST, 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, cut open connections and end pending delays."""
        self._stopped.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    # ---- recording
    def enter(self) -> None:
        """Note a request arriving (for ``max_in_flight``: proof that calls overlapped)."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def leave(self) -> None:
        """Note a request finished."""
        with self._lock:
            self._in_flight -= 1

    def calls(self) -> list[Call]:
        """Return every call seen so far, in arrival order."""
        with self._lock:
            return list(self._calls)

    def operations(self) -> list[tuple[str, str]]:
        """Return ``(service, operation)`` of every call (moto-api calls left out)."""
        return [(c.service, c.operation) for c in self.calls() if c.service != "moto-api"]

    def count(self, operation: str, service: str | None = None) -> int:
        """Return how many calls of *operation* (optionally of *service*) arrived."""
        return sum(
            1 for c in self.calls() if c.operation == operation and service in (None, c.service)
        )

    def clear(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self._calls.clear()

    # ---- rules
    def add_rule(self, **spec: Unpack[RuleSpec]) -> Rule:
        """Add a fault rule (see :class:`Rule`) and return it (``rule.hits`` counts firings)."""
        rule = Rule(**spec)
        with self._lock:
            self._rules.append(rule)
        return rule

    def latency(self, seconds: float) -> Rule:
        """Add *seconds* of delay to every request (benchmarks)."""
        return self.add_rule(delay=seconds)

    def remove_rule(self, rule: Rule) -> None:
        """Remove one rule."""
        with self._lock:
            self._rules.remove(rule)

    def clear_rules(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        """Forget calls and rules."""
        self.clear()
        self.clear_rules()

    # ---- used by the handler
    def _fires(self, rule: Rule, req: Request) -> bool:
        """Decide (under the lock) whether *rule* fires for *req*, counting the hit."""
        if not rule.matches(req) or (rule.times is not None and rule.hits >= rule.times):
            return False
        if rule.probability is not None and self._rng.random() >= rule.probability:
            return False
        rule.hits += 1
        return True

    def plan(self, req: Request) -> tuple[float, Rule | None]:
        """Record *req*; return the total delay and the rule whose action answers it."""
        delay, chosen = 0.0, None
        with self._lock:
            for rule in self._rules:
                if rule.deny_sse_kms or not self._fires(rule, req):
                    continue
                delay += rule.delay
                if rule.action is not None:
                    chosen = rule
                    break
            self._calls.append(
                Call(
                    req.service,
                    req.operation,
                    req.method,
                    req.path,
                    chosen.action if chosen else None,
                    req.access_key,
                    req.body,
                    req.region,
                )
            )
        return delay, chosen

    def deny_rule(self, req: Request, headers: Message) -> Rule | None:
        """Return a firing ``deny_sse_kms`` rule when *req* read an SSE-KMS object."""
        if req.method != "GET" or headers.get("x-amz-server-side-encryption") != "aws:kms":
            return None
        with self._lock:
            for rule in self._rules:
                if rule.deny_sse_kms and self._fires(rule, req):
                    return rule
        return None

    def sleep(self, seconds: float) -> None:
        """Sleep, cut short when the proxy stops."""
        if seconds > 0:
            self._stopped.wait(seconds)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        """Remember or forget an open client connection."""
        with self._lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)


# --------------------------------------------------------------------------- responses


def error_response(req: Request, rule: Rule) -> tuple[int, list[tuple[str, str]], bytes]:
    """Build the AWS-shaped error answer of an ``error`` rule for this request's protocol."""
    shape = error_shape(rule.error, rule.status)
    request_id = str(uuid.uuid4())
    if req.protocol == "json":
        code, status = shape.json_code, rule.status or shape.json_status
        body = json.dumps({"__type": code, "message": rule.message or shape.message}).encode()
        return (
            status,
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", code),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    if req.protocol == "s3":
        return s3_error(
            rule.status or shape.s3_status,
            shape.s3_code,
            rule.message or shape.s3_message or shape.message,
            request_id,
        )
    return query_error(
        rule.status or shape.json_status,
        shape.query_code,
        rule.message or shape.message,
        request_id,
    )


def s3_error(
    status: int, code: str, message: str, request_id: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Build S3's XML error document."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>{request_id}</RequestId>"
        f"<HostId>{request_id}</HostId></Error>"
    ).encode()
    return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body


def query_error(
    status: int, code: str, message: str, request_id: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Build the query protocol's (STS, IAM) XML error document."""
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
        "</ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


def kms_denied(headers: Message) -> tuple[int, list[tuple[str, str]], bytes]:
    """Build S3's AccessDenied for a GetObject of an SSE-KMS object without kms:Decrypt."""
    key = headers.get("x-amz-server-side-encryption-aws-kms-key-id") or "unknown"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:us-east-1:123456789012:key/{key}"
    message = (
        "User: arn:aws:iam::123456789012:user/test is not authorized to perform: "
        f"kms:Decrypt on resource: {key} because no identity-based policy allows the "
        "kms:Decrypt action"
    )
    return s3_error(403, "AccessDenied", message, str(uuid.uuid4()))


# --------------------------------------------------------------------------- handler


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, consults the proxy's rules, forwards or fakes the answer."""

    protocol_version = "HTTP/1.1"
    timeout = 120
    server: _Server

    def setup(self) -> None:
        """Track the connection so stop() can cut it."""
        super().setup()
        self.server.proxy.track(self.connection, add=True)

    def finish(self) -> None:
        """Forget the connection."""
        self.server.proxy.track(self.connection, add=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet: tests read the recorded calls instead."""

    def handle_one_request(self) -> None:
        """Handle one request; a client that went away just ends the connection."""
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ValueError, OSError):
            self.close_connection = True

    def _read_body(self) -> bytes:
        """Read the request body (Content-Length or chunked)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        """Serve one request, counting how many are in flight at once."""
        proxy = self.server.proxy
        proxy.enter()
        try:
            self._serve(proxy)
        finally:
            proxy.leave()

    def _serve(self, proxy: Proxy) -> None:
        """Answer one request: faults first, else forward to moto."""
        req = Request(self.command, self.path, list(self.headers.items()), self._read_body())
        delay, rule = proxy.plan(req)
        proxy.sleep(delay)
        action = rule.action if rule else None
        if action == "drop":
            self.close_connection = True
        elif action == "reset":
            self._reset()
        elif rule is not None and action == "error":
            self._send(*error_response(req, rule), head=req.method == "HEAD")
        elif rule is not None and rule.reply is not None:
            headers = [("Content-Type", rule.reply_type), ("x-amzn-RequestId", str(uuid.uuid4()))]
            if rule.close_delimited:
                self._send_delimited(rule.reply_status, headers, rule.reply)
            else:
                self._send(rule.reply_status, headers, rule.reply)
        else:
            self._forward(req, rule)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _handle  # noqa: N815

    def _reset(self) -> None:
        """Close with SO_LINGER 0 so the client gets a TCP RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.rfile.close()
        self.connection.close()

    def _forward(self, req: Request, rule: Rule | None) -> None:
        """Send *req* to moto and relay (or truncate, or deny) its answer."""
        try:
            status, headers, body = self._upstream(req)
        except OSError as exc:
            self._send(502, [("Content-Type", "text/plain")], f"upstream: {exc}".encode())
            return
        deny = self.server.proxy.deny_rule(req, headers)
        if deny is not None:
            self._send(*kms_denied(headers), head=req.method == "HEAD")
        elif rule is not None and rule.truncate is not None and rule.close_delimited:
            kept = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
            self._send_delimited(status, kept, body[: rule.truncate])
        elif rule is not None and rule.truncate is not None:
            self._send_truncated(status, headers, body, rule.truncate)
        else:
            self._send(status, headers.items(), body, head=req.method == "HEAD")

    def _upstream(self, req: Request) -> tuple[int, Message, bytes]:
        """Make the request on moto with the client's own headers (Host included)."""
        conn = http.client.HTTPConnection(*self.server.proxy.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(req.method, req.target, skip_host=True, skip_accept_encoding=True)
            for name, value in req.headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            if req.body or req.method in {"POST", "PUT", "PATCH"}:
                conn.putheader("Content-Length", str(len(req.body)))
            conn.endheaders(req.body or None)
            resp = conn.getresponse()
            return resp.status, resp.msg, resp.read()
        finally:
            conn.close()

    def _send(self, status: int, headers: Any, body: bytes, *, head: bool = False) -> None:
        """Write a complete response; HEAD and 204/304 keep moto's headers and send no body."""
        bodyless = head or status in NO_BODY_STATUSES
        self.send_response_only(status)
        for name, value in headers:
            lname = name.lower()
            if lname not in HOP_BY_HOP and (bodyless or lname != "content-length"):
                self.send_header(name, value)
        if not bodyless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not bodyless:
            self.wfile.write(body)

    def _send_truncated(self, status: int, headers: Message, body: bytes, keep: int) -> None:
        """Announce the full Content-Length, send only *keep* bytes, then close."""
        if keep >= len(body):
            keep = len(body) // 2
        self.send_response_only(status)
        for name, value in headers.items():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:keep])
        self.wfile.flush()
        self.close_connection = True

    def _send_delimited(self, status: int, headers: Any, body: bytes) -> None:
        """Send *body* without Content-Length (HTTP/1.0 style), ended by closing the connection."""
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True
