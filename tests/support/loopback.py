"""A TCP server on 127.0.0.1, a thread per connection: what wire.Recorder and tls.TlsRelay share.

A subclass sets ``SCHEME`` (for ``url``) and ``NAME`` (its accepting thread's), implements
``_serve(client)`` and may count a connection in ``_accepted(client)``; ``track`` registers the
sockets ``stop`` closes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Self

HOST = "127.0.0.1"


class LoopbackServer:
    """Listen on a random port of 127.0.0.1; serve each connection in a daemon thread."""

    SCHEME = "http"
    NAME = "loopback"

    def __init__(self) -> None:
        """Bind now; nothing is accepted before start()."""
        self._listener = socket.create_server((HOST, 0))
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    @property
    def url(self) -> str:
        """Return ``SCHEME://127.0.0.1:PORT``."""
        return f"{self.SCHEME}://{HOST}:{self._listener.getsockname()[1]}"

    def start(self) -> Self:
        """Accept connections in a daemon thread."""
        threading.Thread(target=self._accept, name=self.NAME, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every tracked connection."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def track(self, *sockets: socket.socket) -> None:
        """Have stop() close *sockets*."""
        with self._lock:
            self._sockets += sockets

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._accepted(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _accepted(self, client: socket.socket) -> None:
        """Note a new connection (nothing by default)."""

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError
