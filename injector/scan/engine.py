"""The local engine: ``GET /images/{name}/json`` and ``/images/{name}/get`` over its Unix socket.

Standard library only (http.client on an AF_UNIX socket); no pull, no docker CLI. The
socket comes from ``DOCKER_HOST=unix://PATH`` or ``/var/run/docker.sock``.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from typing import IO, TYPE_CHECKING, Any

from injector.scan.errors import EngineUnavailableError, TargetMissingError

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_SOCKET = "/var/run/docker.sock"
TIMEOUT = 120.0
NOT_FOUND = 404
OK = 200


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        sock.connect(self._path)
        self.sock = sock


def socket_path(environ: Mapping[str, str]) -> str:
    """Return the engine's socket path, or raise when DOCKER_HOST is not a Unix socket."""
    host = environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    raise EngineUnavailableError(f"DOCKER_HOST={host}: only unix:// sockets are supported")


def _get(path: str, url: str, name: str) -> http.client.HTTPResponse:
    conn = _UnixConnection(path)
    try:
        conn.request("GET", url)
        response = conn.getresponse()
    except OSError as exc:
        conn.close()
        raise EngineUnavailableError(f"engine at {path}: {exc.strerror or exc}") from None
    if response.status == NOT_FOUND:
        conn.close()
        raise TargetMissingError(f"image {name}: not in the local engine (no pull is made)")
    if response.status != OK:
        conn.close()
        raise EngineUnavailableError(f"engine at {path}: {url} answered {response.status}")
    return response


def inspect(path: str, name: str) -> dict[str, Any]:
    """Return the engine's description of image *name* (Id, RepoTags, RootFS)."""
    response = _get(path, f"/images/{urllib.parse.quote(name, safe='')}/json", name)
    try:
        data = json.loads(response.read())
    except (ValueError, OSError):
        raise EngineUnavailableError(f"engine at {path}: unreadable image description") from None
    if not isinstance(data, dict):
        raise EngineUnavailableError(f"engine at {path}: unreadable image description")
    return data


def export(path: str, name: str) -> IO[bytes]:
    """Return the stream of ``docker save NAME`` straight from the engine."""
    return _get(path, f"/images/{urllib.parse.quote(name, safe='')}/get", name)
