"""Keep secrets out of core dumps and ptrace-style reads while injector holds them.

``protect()`` runs before the first byte of a secret arrives, on every path that holds one
(exec, check, the agent, put and encrypt reading stdin); ``release()`` gives the target the
core limit it would have had, just before exec (execve resets "dumpable" by itself).
"""

from __future__ import annotations

import resource

PR_SET_DUMPABLE = 4


class _State:
    core: tuple[int, int] | None = None
    dumpable_off = False


def protect() -> bool:
    """Turn core dumps off and make the process non-dumpable; return whether prctl worked."""
    if _State.core is None:
        _State.core = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, _State.core[1]))
        _State.dumpable_off = _set_dumpable(on=False)
    return _State.dumpable_off


def release() -> None:
    """Restore the core limit (called right before exec)."""
    if _State.core is not None:
        resource.setrlimit(resource.RLIMIT_CORE, _State.core)


def _set_dumpable(*, on: bool) -> bool:
    return prctl(PR_SET_DUMPABLE, int(on))


def prctl(option: int, value: int) -> bool:
    """Set one process attribute (*option*, *value*); return whether libc accepted it."""
    import ctypes  # noqa: PLC0415 - only paid when secrets are fetched

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
