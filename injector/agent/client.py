"""The container side: ask the agent for this container's bundle, then deliver and exec.

No botocore here: the host fetched the secrets. Exit codes as in direct mode: 77 denied,
69 agent unreachable or past the deadline (retried with backoff within INJECTOR_TIMEOUT),
66/77/69 for a secret the host could not get (named), 65 for a malformed answer.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import socket
import time
from typing import TYPE_CHECKING, Any, NoReturn

from injector.errors import (
    AccessDeniedError,
    BadDataError,
    ConfigError,
    InjectorError,
    SecretNotFoundError,
    UnavailableError,
)
from injector.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config
    from injector.deadline import Deadline

SCHEME = "unix://"
DEFAULT_URL = "unix:///run/injector/agent.sock"
MAX_ANSWER = 64 * 1024 * 1024
_RETRY_STATUSES = frozenset({503})
_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 1.0
_MESSAGE_MAX = 200


def socket_path(url: str) -> str:
    """Return the socket path of ``unix:///PATH``; ConfigError otherwise."""
    if not url.startswith(SCHEME + "/"):
        raise ConfigError(f"INJECTOR_AGENT must be unix:///PATH, not {url[:64]!r}")
    return url[len(SCHEME) :]


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def ask(url: str, path: str, deadline: Deadline) -> tuple[int, dict[str, Any]]:
    """GET *path* from the agent, retrying while it is unreachable or the engine is down."""
    where = socket_path(url)
    pause = _BACKOFF_FIRST
    while True:
        left = deadline.check(f"agent {url}")
        try:
            status, body = _once(where, path, left)
        except (OSError, http.client.HTTPException) as exc:
            status, body = 0, {"error": f"agent unreachable: {type(exc).__name__}"}
        if status and status not in _RETRY_STATUSES:
            return status, body
        if deadline.remaining() <= pause:
            reason = body.get("error", "unavailable")
            msg = f"{str(reason)[:_MESSAGE_MAX]} until the deadline ({deadline.seconds:g}s)"
            raise UnavailableError(msg, reference=url)
        time.sleep(pause)
        pause = min(pause * 2, _BACKOFF_MAX)


def _once(where: str, path: str, timeout: float) -> tuple[int, dict[str, Any]]:
    conn = _UnixConnection(where, timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        data = response.read(MAX_ANSWER + 1)
        status = response.status
    finally:
        conn.close()
    if len(data) > MAX_ANSWER:
        raise BadDataError("the agent's answer is too large")
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return -1, {}  # a malformed answer
    return status, body


def bundle(url: str, deadline: Deadline) -> tuple[dict[str, Secret], dict[str, Secret]]:
    """Return (env, files) from the agent, or raise the error matching its answer."""
    status, body = ask(url, "/v1/bundle", deadline)
    if status == 200:  # noqa: PLR2004 - HTTP OK
        return _decode(body, "env"), _decode(body, "files")
    raise answer_error(status, body, url)


def answer_error(status: int, body: dict[str, Any], url: str) -> InjectorError:
    """Map a non-200 answer to the exit code direct mode would have had."""
    message = str(body.get("error", ""))[:_MESSAGE_MAX] or f"status {status}"
    reference = body.get("reference")
    ref = str(reference)[:_MESSAGE_MAX] if reference else None
    kind = body.get("kind")
    if status in {401, 403, 409}:
        return AccessDeniedError(
            f"the agent denied this container ({status}: {message})", reference=url
        )
    if status == 404 and kind == "not_found":  # noqa: PLR2004
        return SecretNotFoundError(f"the host could not get it: {message}", reference=ref)
    if status == 502 and kind in {"denied", "unavailable", "bad_data", "not_found"}:  # noqa: PLR2004
        error = {
            "denied": AccessDeniedError,
            "unavailable": UnavailableError,
            "bad_data": BadDataError,
            "not_found": SecretNotFoundError,
        }[str(kind)]
        return error(f"the host could not get it: {message}", reference=ref)
    return BadDataError(f"malformed answer from the agent ({status}: {message})", reference=url)


def _decode(body: dict[str, Any], key: str) -> dict[str, Secret]:
    table = body.get(key, {})
    if not isinstance(table, dict):
        raise BadDataError(f"malformed answer from the agent: {key} is not an object")
    out: dict[str, Secret] = {}
    for name, text in table.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise BadDataError(f"malformed answer from the agent: bad {key} entry")
        try:
            out[name] = Secret(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise BadDataError(f"malformed answer from the agent: {name} is not base64") from None
    return out


def run(config: Config, command: Sequence[str], environ: Mapping[str, str]) -> NoReturn:
    """Agent mode of exec: locate the target, get the bundle, validate it, deliver, exec."""
    from injector import hardening, plan  # noqa: PLC0415
    from injector import run as pipeline  # noqa: PLC0415
    from injector.deadline import Deadline  # noqa: PLC0415
    from injector.prepare import Prepared, validate  # noqa: PLC0415

    own = plan.build(environ, config)
    if own:
        first = own.deliveries[0].variable if own.deliveries else "INJECTOR_ENV_FILES"
        msg = "INJECTOR_AGENT is set: the agent's policy names the secrets, not the environment"
        raise ConfigError(msg, reference=first)
    executable = pipeline.locate(command, environ, own.drop, config)
    hardening.protect()
    env, files = bundle(str(config.agent), Deadline(config.timeout))
    if files:
        from injector import files as sink  # noqa: PLC0415

        sink.preflight(config)
    prepared = validate(Prepared(env, {}, files, own.drop))
    pipeline.deliver(prepared, environ, config, command, executable)


def whoami(url: str, deadline: Deadline) -> dict[str, Any]:
    """Return what the agent sees of this process (no values)."""
    status, body = ask(url, "/v1/whoami", deadline)
    if status == 200:  # noqa: PLR2004
        return body
    raise answer_error(status, body, url)
