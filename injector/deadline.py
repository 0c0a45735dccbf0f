"""One overall deadline for a start, shared by every call."""

from __future__ import annotations

import time

from injector.errors import UnavailableError


class Deadline:
    """A point in monotonic time after which injector gives up."""

    def __init__(self, seconds: float) -> None:
        """Start the clock now."""
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - time.monotonic())

    def check(self, what: str) -> float:
        """Return the seconds left, or raise UnavailableError naming *what*."""
        left = self.remaining()
        if left <= 0:
            msg = f"overall deadline of {self.seconds:g}s passed (INJECTOR_TIMEOUT)"
            raise UnavailableError(msg, reference=what)
        return left
