"""Split a large fetch over two processes, so that botocore's per-call work uses two CPUs.

botocore builds, signs and parses every request in Python, under the GIL: with many secrets
a start is bound by one CPU however many threads wait on the network. When there are at
least ``resolve.SPLIT_FROM`` calls to make, two CPUs to make them on and no thread but this
one, the process forks once. The child makes about half of the calls (with half of the
concurrency; whole services where it can, so that each client is made once) and sends the
outcomes back through a pipe; the parent makes the rest, reads them and reaps the child
before it goes on, so nothing of it is left when the target runs.

What crosses the pipe is each secret's bytes (kernel memory, never a file) and each
error's class and message. The child dies with the parent (``PR_SET_PDEATHSIG``) and keeps
the same overall deadline; a child that fails or is late leaves its secrets undelivered,
which the caller reports as unavailable: a start still fails closed.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import struct
import sys
import threading
from typing import TYPE_CHECKING

from injector import errors, hardening, log
from injector.errors import InjectorError, UnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from injector.backends import Batch
    from injector.deadline import Deadline
    from injector.references import Source

    Outcomes = dict[Source, bytes | InjectorError]

CLIENT_COST = 5  # making a client, in calls (~5 ms against ~1 ms a call, frozen)
MIN_CPUS = 1.5  # CPUs this process may use (affinity and the cgroup's quota)
GRACE = 0.2  # seconds past the deadline for the child's report of what it gave up on
PR_SET_PDEATHSIG = 1
HEADER = struct.Struct("!IBI")  # source index, kind, length of what follows
VALUE, ERROR = 0, 1
CHUNK = 1 << 16


def worthwhile(workers: int) -> bool:
    """Whether to split (resolve.py counts the calls first): two CPUs, one thread, a fork."""
    return (
        workers >= 2  # noqa: PLR2004 - one worker for each process at least
        and hasattr(os, "fork")
        and threading.active_count() == 1
        and usable_cpus() >= MIN_CPUS
    )


def usable_cpus(cgroup: str = "/sys/fs/cgroup") -> float:
    """Return the CPUs this process may run on: its affinity, capped by a cgroup v2 quota."""
    cpus = float(len(os.sched_getaffinity(0)))
    try:
        with open(os.path.join(cgroup, "cpu.max"), encoding="ascii") as limits:
            quota, _, period = limits.read().partition(" ")
        if quota != "max":
            cpus = min(cpus, int(quota) / int(period))
    except (OSError, ValueError, ZeroDivisionError):
        pass  # no cgroup v2 quota to read: the affinity is the bound
    return cpus


def partition(
    groups: Sequence[Sequence[Batch]],
) -> tuple[int, list[list[Batch]], list[list[Batch]]]:
    """Share *groups* (the batches of one client each) out; return (shared, here, there).

    The largest group, *shared*, is the one both processes call: its clients are made
    before the fork. Every other group goes whole to the process with less to do so far (a
    call counts 1, making its client ``CLIENT_COST``); then the shared one is cut where the
    two come out even.
    """
    order = sorted(range(len(groups)), key=lambda number: -len(groups[number]))
    shared = order[0]
    sides: tuple[list[list[Batch]], list[list[Batch]]] = ([], [])
    load = [0, 0]
    for number in order[1:]:
        side = 0 if load[0] <= load[1] else 1
        sides[side].append(list(groups[number]))
        load[side] += len(groups[number]) + CLIENT_COST
    big = list(groups[shared])
    keep = min(len(big), max(0, (load[1] - load[0] + len(big) + 1) // 2))
    return shared, [big[:keep], *sides[0]], [big[keep:], *sides[1]]


def fetch(  # noqa: PLR0913, PLR0917 - the two halves and what both need
    here: list[Batch],
    there: list[Batch],
    sources: Sequence[Source],
    workers: int,
    deadline: Deadline,
    fetch_part: Callable[[list[Batch], int], Outcomes],
) -> Outcomes:
    """Fetch *here* in this process and *there* in a forked child; return every outcome.

    *fetch_part(batches, workers)* is the one-process fetch; *sources* lists, in the same
    order in both processes, every source the batches cover (the pipe names them by index).
    A source missing from the result was not delivered by the child.
    """
    sys.stdout.flush()
    sys.stderr.flush()  # what is buffered now would otherwise be written twice
    read_end, write_end = os.pipe()
    parent = os.getpid()
    try:
        child = os.fork()
    except OSError:  # pids.max reached, or a seccomp profile without fork: all of it here
        os.close(read_end)
        os.close(write_end)
        return fetch_part([*here, *there], workers)
    if child == 0:  # pragma: no cover - runs in the child, which leaves by os._exit
        code = errors.SOFTWARE
        try:
            os.close(read_end)
            code = child_main(write_end, parent, there, sources, workers // 2, fetch_part)
        finally:
            os._exit(code)  # whatever happened, the child never returns into the caller
    os.close(write_end)
    log.debug("fetch_split", child=child, calls_here=len(here), calls_there=len(there))
    report: bytes | None = None
    try:
        outcomes = fetch_part(here, workers - workers // 2)
        report = read_report(read_end, deadline)
    finally:
        os.close(read_end)
        reap(child, kill=report is None)
    if report is not None:
        outcomes.update(decode(report, sources))
    return outcomes


def child_main(  # noqa: PLR0913, PLR0917 - the child's whole context, passed across the fork
    write_end: int,
    parent: int,
    batches: list[Batch],
    sources: Sequence[Source],
    workers: int,
    fetch_part: Callable[[list[Batch], int], Outcomes],
) -> int:
    """Fetch *batches*, write their outcomes to *write_end*; return the exit status."""
    try:
        if not die_with_parent(parent):
            return errors.SOFTWARE
        index = {source: number for number, source in enumerate(sources)}
        outcomes = fetch_part(batches, max(1, workers))
        with os.fdopen(write_end, "wb") as out:
            for source, outcome in outcomes.items():
                out.write(encode(index[source], outcome))
    except BaseException:  # noqa: BLE001 - nothing may unwind into the parent's code
        return errors.SOFTWARE
    finally:
        _flush()
    return 0


def _flush() -> None:
    """Flush stderr before os._exit, so that a line the child logged is not lost."""
    with contextlib.suppress(OSError, ValueError):  # stderr closed or gone: nothing to keep
        sys.stderr.flush()


def die_with_parent(parent: int) -> bool:
    """Ask for SIGKILL when the parent dies; return False if it is already gone."""
    hardening.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))  # else it ends at the deadline
    return os.getppid() == parent


def encode(number: int, outcome: bytes | InjectorError) -> bytes:
    """Return one record: the source's index, then its bytes or its error's class and message."""
    if isinstance(outcome, bytes):
        return HEADER.pack(number, VALUE, len(outcome)) + outcome
    text = f"{type(outcome).__name__}\0{outcome.message}".encode()
    return HEADER.pack(number, ERROR, len(text)) + text


def decode(report: bytes, sources: Sequence[Source]) -> Outcomes:
    """Return the outcomes in *report*; a record cut short ends it (its source is missing)."""
    outcomes: Outcomes = {}
    offset = 0
    while offset + HEADER.size <= len(report):
        number, kind, size = HEADER.unpack_from(report, offset)
        body = report[offset + HEADER.size : offset + HEADER.size + size]
        offset += HEADER.size + size
        if len(body) < size or number >= len(sources):
            break
        outcomes[sources[number]] = body if kind == VALUE else _error(body)
    return outcomes


def _error(body: bytes) -> InjectorError:
    name, _, message = body.decode(errors="replace").partition("\0")
    cls = _ERROR_CLASSES.get(name, UnavailableError)
    return cls(message)


def _error_classes() -> dict[str, type[InjectorError]]:
    found: dict[str, type[InjectorError]] = {}
    pending: list[type[InjectorError]] = [InjectorError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


_ERROR_CLASSES = _error_classes()


def read_report(read_end: int, deadline: Deadline) -> bytes | None:
    """Read the child's report to its end; None if it is not complete by the deadline."""
    poller = select.poll()
    poller.register(read_end, select.POLLIN)
    chunks: list[bytes] = []
    while True:
        left = deadline.remaining() + GRACE
        if not poller.poll(left * 1000):
            return None
        chunk = os.read(read_end, CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def reap(child: int, *, kill: bool) -> None:
    """Wait for the child to end, killing it first when *kill* (it is never left behind)."""
    if kill:
        os.kill(child, signal.SIGKILL)  # a zombie until reaped: the pid cannot be reused
    os.waitpid(child, 0)
