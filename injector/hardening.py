"""Keep secrets out of core dumps and ptrace-style reads while injector holds them."""

from __future__ import annotations

import resource

PR_SET_DUMPABLE = 4


class Protection:
    """Core dumps off and the process non-dumpable; ``release`` restores the core limit."""

    def __init__(self) -> None:
        """Apply both protections now."""
        self._core = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, self._core[1]))
        self.dumpable_off = _set_dumpable(on=False)

    def release(self) -> None:
        """Give the target the core limit it would have had (exec resets dumpable itself)."""
        resource.setrlimit(resource.RLIMIT_CORE, self._core)


def _set_dumpable(*, on: bool) -> bool:
    import ctypes  # noqa: PLC0415 - only paid when secrets are fetched

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_DUMPABLE, int(on), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
