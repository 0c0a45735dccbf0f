"""An IMDSv2-only EC2 instance metadata server (standard library only, also a script).

botocore reaches it through ``AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT``.
Faults are plain attributes of :class:`Imds` that tests set while it runs: ``fail_status``
(with ``fail_times``), ``token_delay``, ``token_status``, ``no_role``.

As a script (e.g. inside a network namespace)::

    python tests/support/imds.py --host 169.254.169.254 --port 80 --creds-json FILE

FILE holds ``{"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ...}`` (optionally
``Expiration``, ``role``, ``region``). The script prints ``ready http://HOST:PORT`` once listening.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN_PATH = "/latest/api/token"  # noqa: S105 - a URL path
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"  # noqa: S105 - a header name
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"
MAX_TTL = 21600
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class RoleCredentials:
    """What the instance's role hands out."""

    access_key_id: str = "testing"
    secret_access_key: str = "testing"  # noqa: S105 - moto's fake key
    token: str = "testing-session-token"  # noqa: S105 - fake
    expiration: datetime | None = None

    def document(self) -> dict[str, str]:
        """Return IMDS's JSON credential document."""
        now = datetime.now(UTC)
        expires = self.expiration or now + timedelta(hours=6)
        return {
            "Code": "Success",
            "LastUpdated": now.strftime(TIME_FORMAT),
            "Type": "AWS-HMAC",
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.token,
            "Expiration": expires.strftime(TIME_FORMAT),
        }


@dataclass
class Imds:
    """The metadata server's state and faults; ``start()`` it, then use ``url``."""

    credentials: RoleCredentials = field(default_factory=RoleCredentials)
    role: str = "injector-test-role"
    region: str = "us-east-1"
    host: str = "127.0.0.1"
    port: int = 0
    fail_status: int | None = None
    fail_times: int | None = None
    token_delay: float = 0.0
    token_status: int | None = None
    no_role: bool = False
    requests: list[tuple[str, str, bool]] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Return ``http://HOST:PORT``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Imds:
        """Listen and serve in a daemon thread."""
        server = _Server((self.host, self.port), _Handler)
        server.imds = self
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(
            target=server.serve_forever, args=(0.05,), daemon=True, name="imds"
        ).start()
        return self

    def serve_forever(self) -> None:
        """Listen and serve in this thread (the script's mode)."""
        server = _Server((self.host, self.port), _Handler)
        server.imds = self
        self._server = server
        self.port = server.server_address[1]
        print(f"ready {self.url}", flush=True)
        server.serve_forever(0.2)

    def stop(self) -> None:
        """Stop serving and end pending delays."""
        self._stopped.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def new_token(self, ttl: int) -> str:
        """Mint a token valid for *ttl* seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        return token

    def token_valid(self, token: str | None) -> bool:
        """Return True for a token this server minted that has not expired."""
        with self._lock:
            expires = self._tokens.get(token or "")
        return expires is not None and expires > time.monotonic()

    def take_failure(self) -> int | None:
        """Return the status to fail this request with, counting down ``fail_times``."""
        with self._lock:
            if self.fail_status is None or self.fail_times == 0:
                return None
            if self.fail_times is not None:
                self.fail_times -= 1
            return self.fail_status

    def record(self, method: str, path: str, *, token: bool) -> None:
        """Remember one request."""
        with self._lock:
            self.requests.append((method, path, token))

    def sleep(self, seconds: float) -> None:
        """Sleep, cut short by stop()."""
        if seconds > 0:
            self._stopped.wait(seconds)


class _Server(ThreadingHTTPServer):
    """Daemon threads, no join on close."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    imds: Imds


class _Handler(BaseHTTPRequestHandler):
    """IMDSv2: PUT a token, then GET with it."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Stay quiet."""

    def _reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
        """Send a complete answer."""
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_PUT(self) -> None:
        """Hand out a session token."""
        imds = self.server.imds
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        imds.record("PUT", self.path, token=False)
        imds.sleep(imds.token_delay)
        failure = imds.take_failure() or imds.token_status
        if self.path != TOKEN_PATH:
            self._reply(405, "")
        elif failure is not None:
            self._reply(failure, "")
        elif "X-Forwarded-For" in self.headers:
            self._reply(403, "Forbidden")
        else:
            self._token()

    def _token(self) -> None:
        """Validate the TTL header and mint the token."""
        try:
            ttl = int(self.headers.get(TTL_HEADER, ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_TTL:
            self._reply(400, "Bad Request")
            return
        token = self.server.imds.new_token(ttl)
        self.send_response(200)
        self.send_header(TTL_HEADER, str(ttl))
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(token)))
        self.end_headers()
        self.wfile.write(token.encode())

    def do_GET(self) -> None:
        """Answer a metadata read, only with a valid token (IMDSv1 gets 401)."""
        imds = self.server.imds
        token = self.headers.get(TOKEN_HEADER)
        imds.record("GET", self.path, token=token is not None)
        failure = imds.take_failure()
        if failure is not None:
            self._reply(failure, "")
        elif not imds.token_valid(token):
            self._reply(401, "Unauthorized")
        else:
            status, body, kind = answer(imds, self.path)
            self._reply(status, body, kind)


def answer(imds: Imds, path: str) -> tuple[int, str, str]:
    """Return status, body and content type for metadata *path*."""
    plain = "text/plain"
    if path.rstrip("/") == CREDS_PATH.rstrip("/"):
        return (404, "Not Found", plain) if imds.no_role else (200, imds.role, plain)
    if path.startswith(CREDS_PATH):
        if imds.no_role or path[len(CREDS_PATH) :].rstrip("/") != imds.role:
            return 404, "Not Found", plain
        return 200, json.dumps(imds.credentials.document()), plain
    fixed = {
        "/latest/meta-data/placement/region": imds.region,
        "/latest/meta-data/placement/availability-zone": f"{imds.region}a",
        "/latest/meta-data/instance-id": "i-0123456789abcdef0",
        "/latest/dynamic/instance-identity/document": json.dumps(identity(imds.region)),
    }
    body = fixed.get(path.rstrip("/"))
    if body is None:
        return 404, "Not Found", plain
    return 200, body, "application/json" if body.startswith("{") else plain


def identity(region: str) -> dict[str, Any]:
    """Return an instance identity document for *region*."""
    return {
        "accountId": "123456789012",
        "architecture": "x86_64",
        "availabilityZone": f"{region}a",
        "imageId": "ami-0123456789abcdef0",
        "instanceId": "i-0123456789abcdef0",
        "instanceType": "t3.micro",
        "privateIp": "10.0.0.10",
        "region": region,
        "version": "2017-09-30",
        "pendingTime": "2026-01-01T00:00:00Z",
    }


def from_creds_file(path: Path, host: str, port: int) -> Imds:
    """Build a server from a JSON credentials file (see the module docstring)."""
    data: dict[str, str] = json.loads(path.read_text())
    expiration = data.get("Expiration")
    creds = RoleCredentials(
        data["AccessKeyId"],
        data["SecretAccessKey"],
        data.get("Token", ""),
        datetime.strptime(expiration, TIME_FORMAT).replace(tzinfo=UTC) if expiration else None,
    )
    return Imds(
        creds,
        data.get("role", "injector-test-role"),
        data.get("region", "us-east-1"),
        host=host,
        port=port,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--creds-json", type=Path, help="credentials file (default: fakes)")
    parser.add_argument("--no-role", action="store_true", help="answer 404: no role attached")
    args = parser.parse_args(argv)
    imds = (
        from_creds_file(args.creds_json, args.host, args.port)
        if args.creds_json
        else Imds(host=args.host, port=args.port)
    )
    imds.no_role = args.no_role
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        imds.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
