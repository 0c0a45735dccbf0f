"""moto's standalone server as a real subprocess on a random port of 127.0.0.1."""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1
NO_AUTH = float("inf")


class MotoStartError(RuntimeError):
    """moto_server did not come up in time (its log tail is in the message)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded in the parent: no dlopen after fork


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM the child when pytest dies (runs between fork and exec)."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _command(port: int) -> list[str]:
    """Return the argv for moto's server: the venv's console script, else ``-m moto.server``."""
    exe = Path(sys.executable).with_name("moto_server")
    if exe.is_file():
        return [str(exe), "-H", HOST, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def _answers(port: int) -> bool:
    """Return True when an HTTP server answers on *port*."""
    conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        conn.request("GET", "/moto-api/data.json")
        conn.getresponse().read()
    except OSError:
        return False
    finally:
        conn.close()
    return True


class MotoServer:
    """A ``moto_server`` process: ``url``, ``reset()``, ``reset_auth(n)``, ``stop()``."""

    def __init__(self, log_dir: Path) -> None:
        """Prepare a server that logs to ``log_dir/moto.log``; call :meth:`start` to run it."""
        self.log_path = log_dir / "moto.log"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.auth_changed = False

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{HOST}:{self.port}"

    def start(self, attempts: int = 3) -> MotoServer:
        """Start the server, retrying on another port if one was taken meanwhile."""
        for _ in range(attempts):
            if self._try_start(free_port()):
                return self
        raise MotoStartError(f"moto_server did not start; log tail:\n{self.log_tail()}")

    def _try_start(self, port: int) -> bool:
        """Start on *port* and wait until it answers; False if the process died first."""
        self.port = port
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            _command(port),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.stop()
                return False
            if _answers(port):
                return True
            time.sleep(0.05)
        self.stop()
        raise MotoStartError(f"moto_server not ready in {START_TIMEOUT}s:\n{self.log_tail()}")

    def log_tail(self, size: int = 4000) -> str:
        """Return the end of the server's log."""
        with contextlib.suppress(OSError):
            return self.log_path.read_bytes()[-size:].decode("utf-8", "replace")
        return ""

    def _post(self, path: str, body: bytes = b"") -> dict[str, Any]:
        """POST to the moto API and return its JSON answer."""
        import json

        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            conn.request("POST", path, body=body)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status != http.HTTPStatus.OK:
            raise RuntimeError(f"{path} answered {resp.status}: {data[:200]!r}")
        result: dict[str, Any] = json.loads(data or b"{}")
        return result

    def reset(self) -> None:
        """Forget every resource in every backend (POST /moto-api/reset)."""
        self._post("/moto-api/reset")

    def reset_auth(self, unauthenticated: float) -> None:
        """Enforce IAM after *unauthenticated* more requests (``inf`` switches it off).

        moto reads the body as a bare number (``float(body)``), not as JSON.
        """
        self._post("/moto-api/reset-auth", str(unauthenticated).encode())
        self.auth_changed = unauthenticated != NO_AUTH

    def client(self, service: str, **kwargs: Any) -> Any:
        """Return a boto3 client for *service* on this server with the fake credentials."""
        from .aws_seed import client

        return client(service, self.url, **kwargs)

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL) and close its log."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None
