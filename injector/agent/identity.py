"""Who is on the other end of an accepted connection, from the kernel alone.

Taken on accept, before a byte is read: ``SO_PEERCRED`` (pid, uid, gid) and a handle that
outlives a PID's reuse: a pidfd from ``SO_PEERPIDFD`` (Linux >= 6.5), else a ``/proc/PID``
directory descriptor plus the process start time (field 22 of ``stat``). :func:`alive` is
the last check before an answer: the peer still exists, so its PID was not reused.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
from dataclasses import dataclass

SO_PEERPIDFD = 77  # Python has no constant for it
_UCRED = struct.Struct("3i")
PIDFD = "pidfd"
START_TIME = "start_time"
# Test-only: force the start-time path even where SO_PEERPIDFD works.
NO_PIDFD_VARIABLE = "INJECTOR_AGENT_TEST_NO_PIDFD"


class PeerGoneError(Exception):
    """The peer exited (or its PID may have been reused) before the answer."""


@dataclass
class Peer:
    """One connection's peer: credentials plus a handle on the very process."""

    pid: int
    uid: int
    gid: int
    defence: str
    pidfd: int = -1
    proc_fd: int = -1
    start_time: str = ""

    def close(self) -> None:
        """Release the descriptors."""
        for fd in (self.pidfd, self.proc_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.pidfd = self.proc_fd = -1


def peer_of(conn: socket.socket, *, use_pidfd: bool = True) -> Peer:
    """Take the peer's identity now; raise PeerGoneError when it cannot be pinned down."""
    pid, uid, gid = _UCRED.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    if pid <= 0:
        raise PeerGoneError("the peer has no process in this pid namespace")
    if use_pidfd:
        pidfd = _peer_pidfd(conn)
        if pidfd >= 0:
            peer = Peer(pid, uid, gid, PIDFD, pidfd=pidfd)
            if not _pidfd_alive(pidfd):
                peer.close()
                raise PeerGoneError("the peer exited before it was accepted")
            return peer
    return _proc_peer(pid, uid, gid)


def pidfd_supported() -> bool:
    """Tell whether this kernel hands out ``SO_PEERPIDFD`` (checked on a socket pair)."""
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        fd = _peer_pidfd(left)
    if fd >= 0:
        os.close(fd)
        return True
    return False


def _peer_pidfd(conn: socket.socket) -> int:
    try:
        raw = conn.getsockopt(socket.SOL_SOCKET, SO_PEERPIDFD, 4)
    except OSError:
        return -1  # ENOPROTOOPT before 6.5; ESRCH when the peer is already reaped
    fd: int = struct.unpack("i", raw)[0]
    return fd


def _proc_peer(pid: int, uid: int, gid: int) -> Peer:
    try:
        proc_fd = os.open(f"/proc/{pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        raise PeerGoneError("the peer exited before it was accepted") from None
    peer = Peer(pid, uid, gid, START_TIME, proc_fd=proc_fd)
    try:
        peer.start_time = _start_time(proc_fd)
    except OSError:
        peer.close()
        raise PeerGoneError("the peer exited before it was accepted") from None
    return peer


def _start_time(proc_fd: int) -> str:
    """Return field 22 of ``stat`` read through the ``/proc/PID`` descriptor."""
    fd = os.open("stat", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc_fd)
    try:
        data = os.read(fd, 4096).decode("ascii", "replace")
    finally:
        os.close(fd)
    return start_time_field(data)


def start_time_field(stat: str) -> str:
    """Return field 22 (starttime) of a ``/proc/PID/stat`` line; the name may hold spaces."""
    tail = stat.rpartition(")")[2].split()
    if len(tail) < 20:  # noqa: PLR2004 - fields 3..22 follow the name
        raise OSError("short stat line")
    return tail[19]


def _pidfd_alive(pidfd: int) -> bool:
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return not poller.poll(0)  # readable means the process has exited


def alive(peer: Peer) -> bool:
    """Tell whether the peer still runs, so its PID cannot have been reused."""
    if peer.defence == PIDFD:
        return peer.pidfd >= 0 and _pidfd_alive(peer.pidfd)
    try:
        through_fd = _start_time(peer.proc_fd)
        with open(f"/proc/{peer.pid}/stat", encoding="ascii", errors="replace") as handle:
            by_path = start_time_field(handle.read(4096))
    except OSError:
        return False
    return through_fd == by_path == peer.start_time


def proc_path(peer: Peer) -> str:
    """Return the ``/proc/PID`` path of the peer (for reading its cgroup and status)."""
    return f"/proc/{peer.pid}"


def parent_of(pid: int, proc: str = "/proc") -> int:
    """Return the ``PPid`` of *pid* (OSError when it is gone, 0 at the top)."""
    with open(f"{proc}/{pid}/status", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("PPid:"):
                return int(line.split()[1])
    raise OSError(f"no PPid for {pid}")


def depth_below(pid: int, ancestor: int, limit: int, proc: str = "/proc") -> int | None:
    """Return how many ``PPid`` steps lead from *pid* up to *ancestor*, or None past *limit*."""
    current = pid
    for depth in range(limit + 1):
        if current == ancestor:
            return depth
        if current <= 1:
            return None
        current = parent_of(current, proc)
    return None


def pid_namespace(pid: int | str, proc: str = "/proc") -> tuple[int, int]:
    """Return (device, inode) of the pid namespace of *pid* (``self`` for this process)."""
    info = os.stat(f"{proc}/{pid}/ns/pid")
    return info.st_dev, info.st_ino
