"""An HTTP/1.1 server on 127.0.0.1 that records every request's bytes and answers from a script.

``Recorder().start()`` accepts keep-alive connections on a random port. Each request (its
head and its Content-Length body, exactly as received) is appended to ``requests``; the
answer comes from ``script(request_bytes)``, which returns the bytes to send and what to
do after them: ``KEEP`` the connection, ``CLOSE`` it, ``HANG`` (send nothing more, read
nothing more, until the server stops) or ``RESET`` it (a TCP reset, 0.2 s later: the client
has read what was sent and waits for the rest). ``answer()`` builds an ordinary response.
``connections`` counts the connections accepted.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable

from tests.support.loopback import LoopbackServer

KEEP, CLOSE, HANG, RESET = "keep", "close", "hang", "reset"
Script = Callable[[bytes], tuple[bytes, str]]


def answer(
    status: int = 200,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    length: bool = True,
) -> bytes:
    """Return an HTTP/1.1 response: *headers* in order, then Content-Length unless given."""
    lines = [f"HTTP/1.1 {status} Whatever"]
    fields = dict(headers or {})
    if length and not any(name.lower() == "content-length" for name in fields):
        fields["Content-Length"] = str(len(body))
    lines += [f"{name}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def ok(_request: bytes) -> tuple[bytes, str]:
    """Answer 200 with an empty body and keep the connection (the default script)."""
    return answer(), KEEP


class Recorder(LoopbackServer):
    """The recording server (see the module docstring)."""

    NAME = "recorder"

    def __init__(self, script: Script = ok) -> None:
        """Answer with *script*; nothing is accepted before start()."""
        super().__init__()
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0

    def _accepted(self, client: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        self.track(client)

    def _serve(self, client: socket.socket) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while True:
                request, buffer = _read_request(client, buffer)
                if request is None:
                    break
                with self._lock:
                    self.requests.append(request)
                data, then = self.script(request)
                client.sendall(data)
                if then == HANG:
                    self._stopped.wait()
                if then == RESET:
                    time.sleep(0.2)
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                if then != KEEP:
                    break
        with contextlib.suppress(OSError):
            client.close()


def _read_request(client: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    """Return one request's bytes (head and body) and what followed it; None at the end."""
    while b"\r\n\r\n" not in buffer:
        data = client.recv(65536)
        if not data:
            return None, buffer
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        data = client.recv(65536)
        if not data:
            return None, b""
        rest += data
    return head + b"\r\n\r\n" + rest[:length], rest[length:]
