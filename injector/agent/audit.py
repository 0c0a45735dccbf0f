"""One structlog JSON line per decision on the agent's stderr: who, what, why; never a value."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from injector import log


def request_id() -> str:
    """Return a fresh, short request id (also sent to the client)."""
    return uuid.uuid4().hex[:16]


@dataclass
class Record:
    """What one request's audit line says; filled in as the decision is made."""

    request_id: str = field(default_factory=request_id)
    started: float = field(default_factory=time.monotonic)
    path: str = ""
    pid: int | None = None
    uid: int | None = None
    container_id: str | None = None
    container_name: str | None = None
    image_id: str | None = None
    policy: str | None = None
    variables: list[str] = field(default_factory=list)
    depth: int | None = None
    defence: str | None = None
    reason: str = ""
    alert: bool = False

    def elapsed(self) -> float:
        """Seconds since the connection was accepted."""
        return time.monotonic() - self.started

    def emit(self, status: int) -> None:
        """Write the line: allow for 200, deny otherwise (a warning when it is an alert)."""
        fields: dict[str, object] = {
            "request_id": self.request_id,
            "decision": "allow" if status == 200 else "deny",  # noqa: PLR2004 - HTTP OK
            "status": status,
            "reason": self.reason,
            "path": self.path,
            "pid": self.pid,
            "uid": self.uid,
            "container_id": self.container_id,
            "container_name": self.container_name,
            "image_id": self.image_id,
            "policy": self.policy,
            "variables": sorted(self.variables),
            "depth": self.depth,
            "race_defence": self.defence,
            "latency_ms": round((time.monotonic() - self.started) * 1000, 2),
        }
        if self.alert:
            log.warning("agent_alert", alert=True, **fields)
        else:
            log.info("agent_decision", **fields)
