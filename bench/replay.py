"""A latency server that replays moto's answers: section 3a of ``make bench``.

    .venv/bin/python bench/replay.py UPSTREAM_URL LATENCY_S PORT_FILE

moto and the fault proxy are Python processes doing real work for every request on the
same 2 cores as the client being measured (bench/floor.py shows what that costs). AWS does
not put its CPU on the client's cores: to see what a client's scaling costs by itself,
this server answers each distinct request (method, path, body, ``X-Amz-Target``) with what
moto answered the first time it was asked, byte for byte but ``Date``/``Server``, after
*LATENCY_S*. It is one asyncio process with keep-alive connections; the first asking of a
request goes to *UPSTREAM_URL* (moto) and is recorded.

``GET /__replay/stats`` returns ``{"operations": {"GetObject": N, ...}, "recorded": M}``
(every call since the last clear, replayed and recorded alike; S3 calls are named by their
method, the JSON protocols by ``X-Amz-Target``); ``POST /__replay/clear`` forgets the calls.
Only 127.0.0.1; requests must carry their body with a Content-Length (botocore and curl do
for every call injector makes).

It asks for real-time priority (``SCHED_FIFO``; as root, or with CAP_SYS_NICE) and falls back
to ``nice -10``, then to none, and reports which in the stats (``"priority"``). At an
ordinary priority a client that keeps both cores busy building requests also keeps this
server from reading them: the 20 ms then start late, and a busy client is charged latency
that a server elsewhere would not add. With priority each request is read when it arrives;
the server's own CPU (~0.25 ms a call, schedstat) is still taken from the client's cores.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import sys
import urllib.parse
from pathlib import Path

HOST = "127.0.0.1"
DROPPED = frozenset({"connection", "content-length", "transfer-encoding", "date", "server"})
UPSTREAM_TIMEOUT = 30.0
S3_OPERATIONS = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject"}
FIFO_PRIORITY = 10  # any real-time priority is above every ordinary process
NICE = -10
Key = tuple[str, str, bytes, str]


class Replay:
    """The recorded answers and the call counter."""

    def __init__(self, upstream: str, latency: float) -> None:
        """Forward first askings to *upstream*; delay every answer by *latency* seconds."""
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or HOST, parts.port or 80)
        self.latency = latency
        self.answers: dict[Key, bytes] = {}
        self.operations: dict[str, int] = {}
        self.priority = "normal"

    def count(self, method: str, amz_target: str) -> None:
        """Count one call of its operation."""
        name = amz_target.rpartition(".")[2] if amz_target else S3_OPERATIONS.get(method, method)
        self.operations[name] = self.operations.get(name, 0) + 1

    def record(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> bytes:
        """Ask moto (blocking: run in a worker thread) and return the answer as bytes."""
        conn = http.client.HTTPConnection(*self.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in DROPPED:
                    conn.putheader(name, value)
            if body or method in {"POST", "PUT", "PATCH"}:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            return answer(resp.status, resp.reason, resp.getheaders(), resp.read(), method)
        finally:
            conn.close()


def answer(
    status: int, reason: str, headers: list[tuple[str, str]], body: bytes, method: str
) -> bytes:
    """Render a keep-alive HTTP/1.1 answer: moto's headers but the hop-by-hop ones and Date."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() not in DROPPED]
    lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if method == "HEAD" else head + body


def key(method: str, target: str, body: bytes, headers: list[tuple[str, str]]) -> Key:
    """Return what tells two requests apart for the replay."""
    amz_target = next((v for n, v in headers if n.lower() == "x-amz-target"), "")
    return (method, target, body, amz_target)


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, list[tuple[str, str]], bytes] | None:
    """Read one request (None at the end of the connection)."""
    line = await reader.readline()
    if not line.strip():
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers = []
    while (raw := await reader.readline()) not in {b"\r\n", b"\n", b""}:
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = int(next((v for n, v in headers if n.lower() == "content-length"), "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body


async def serve(replay: Replay, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the requests of one connection, in order, until the client closes it."""
    loop = asyncio.get_running_loop()
    try:
        while (request := await read_request(reader)) is not None:
            method, target, headers, body = request
            if target.startswith("/__replay/"):
                writer.write(control(replay, method, target))
            else:
                request_key = key(method, target, body, headers)
                replay.count(method, request_key[3])
                found = replay.answers.get(request_key)
                if found is None:
                    found = await loop.run_in_executor(
                        None, replay.record, method, target, headers, body
                    )
                    replay.answers[request_key] = found
                await asyncio.sleep(replay.latency)
                writer.write(found)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


def control(replay: Replay, method: str, target: str) -> bytes:
    """Answer ``GET /__replay/stats`` and ``POST /__replay/clear``."""
    if method == "POST" and target == "/__replay/clear":
        replay.operations = {}
    stats = {
        "operations": replay.operations,
        "recorded": len(replay.answers),
        "priority": replay.priority,
    }
    body = json.dumps(stats).encode()
    return answer(200, "OK", [("Content-Type", "application/json")], body, method)


def prioritise() -> str:
    """Ask for real-time priority, else a lower nice value; return what was granted.

    Called before any thread exists: threads made later (asyncio's executor) inherit it.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(FIFO_PRIORITY))
    except OSError:
        pass
    else:
        return "SCHED_FIFO"
    try:
        os.nice(NICE)
    except OSError:
        return "normal"
    return f"nice {NICE}"


async def main(upstream: str, latency: float, port_file: Path) -> None:
    """Listen on a random port of 127.0.0.1, write it to *port_file*, serve for ever."""
    replay = Replay(upstream, latency)
    replay.priority = prioritise()
    server = await asyncio.start_server(lambda r, w: serve(replay, r, w), HOST, 0, backlog=1024)
    port = str(server.sockets[0].getsockname()[1])
    await asyncio.to_thread(port_file.write_text, port)  # the caller waits for this file
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])))
