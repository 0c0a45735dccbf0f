"""The container ID of a process, from the kernel's ``/proc/PID/cgroup`` only.

Each line is ``hierarchy:controllers:path``. Only the Docker engine's own layouts count:

- cgroup v1 or v2, cgroupfs driver: ``.../docker/<64 hex>`` (a ``docker`` component, then the ID)
- cgroup v1 or v2, systemd driver: ``.../docker-<64 hex>.scope``

Within a line the shallowest match wins (a nested cgroup a container made and named after
another container's ID is deeper than its own). Lines without a match are ignored; two
lines naming different IDs mean refuse. Mountinfo is never read: a container can forge it.
"""

from __future__ import annotations

import re

_ID = re.compile(r"[0-9a-f]{64}")
_SCOPE = re.compile(r"docker-([0-9a-f]{64})\.scope")
_ENGINE_PARENT = "docker"
_PODMAN = "libpod-"
MAX_LINES = 256
MAX_LINE = 4096


class CgroupError(Exception):
    """The cgroup file names no container, or more than one."""


def container_id(text: str) -> str | None:
    """Return the one container ID in *text* (a ``/proc/PID/cgroup``), or None for none.

    Raises CgroupError when the lines disagree or the file is not a cgroup file.
    """
    found: set[str] = set()
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise CgroupError("the cgroup file has too many lines")
    for line in lines:
        if not line:
            continue
        match = line_id(line)
        if match is not None:
            found.add(match)
    if len(found) > 1:
        raise CgroupError("the cgroup file names more than one container")
    if not found and _PODMAN in text:
        raise CgroupError("a Podman container: only the Docker engine is supported")
    return found.pop() if found else None


def line_id(line: str) -> str | None:
    """Return the shallowest container ID in one ``hierarchy:controllers:path`` line."""
    if len(line) > MAX_LINE:
        raise CgroupError("a cgroup line is too long")
    parts = line.split(":", 2)
    if len(parts) != 3 or not parts[0].isdigit():  # noqa: PLR2004 - three fields
        raise CgroupError("not a cgroup line")
    path = parts[2]
    if not path.startswith("/"):
        raise CgroupError("a cgroup path must be absolute")
    components = path.split("/")[1:]
    for depth, component in enumerate(components):
        scope = _SCOPE.fullmatch(component)
        if scope:
            return scope.group(1)
        if depth and components[depth - 1] == _ENGINE_PARENT and _ID.fullmatch(component):
            return component
    return None


def read(pid: int, proc: str = "/proc") -> str:
    """Return the text of ``/proc/PID/cgroup`` (OSError when the process is gone)."""
    with open(f"{proc}/{pid}/cgroup", encoding="utf-8", errors="replace") as handle:
        return handle.read(MAX_LINES * MAX_LINE)
