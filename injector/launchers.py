"""What the frozen launchers (staticx's bootloader, PyInstaller's bootloader) add.

The static binary runs as: staticx bootloader -> Python (this code, in PyInstaller's onedir
bootloader, which runs Python in its own process). Each leaves traces in the environment
and in argv; this module is the one place that knows them, so the target gets exactly what
a plain exec would have given it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping, Sequence

# Variables only the launchers set for themselves and their child.
PREFIXES = ("_PYI_", "STATICX_", "_MEIPASS")
ORIG_SUFFIX = "_ORIG"
# Our staticx bootloader saves the original TMPDIR here: "=VALUE" when it was set, "-" when not.
TMPDIR_SAVED = "STATICX_ORIG_TMPDIR"
# It replaces argv[0] with the extracted program; the invoked name is kept here.
ARGV0_SAVED = "STATICX_ARGV0"
# The path of the outer static binary itself (what ``injector copy`` copies).
PROGRAM_PATH = "STATICX_PROG_PATH"
# What CPython's locale coercion (PEP 538) adds to its own environment.
COERCED_NAME = "LC_CTYPE"
COERCED_VALUES = frozenset({"C.UTF-8", "C.utf8", "UTF-8"})
# The caller's working directory: the bootloader moved to "/" and left it to us.
CWD_SAVED = "STATICX_ORIG_CWD"


def is_frozen() -> bool:
    """Tell whether this process runs from the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def invoked_name(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """Return the name the user invoked (argv[0] before the bootloader replaced it)."""
    return environ.get(ARGV0_SAVED) or (argv[0] if argv else "")


def program_path(environ: Mapping[str, str]) -> str | None:
    """Return the path of the file this process was started from, or None when unfrozen."""
    outer = environ.get(PROGRAM_PATH)
    if outer:
        return outer
    if is_frozen():
        return sys.executable
    return None


def _kernel_names() -> frozenset[bytes] | None:
    """Names in the environment block execve gave this process, or None without /proc."""
    try:
        with open("/proc/self/environ", "rb") as handle:
            block = handle.read()
    except OSError:
        return None
    return frozenset(item.partition(b"=")[0] for item in block.split(b"\0") if item)


def _without_coercion(env: dict[str, str]) -> None:
    """Undo Python's locale coercion, which sets ``LC_CTYPE`` in its own environment.

    ``/proc/self/environ`` still holds the block execve received: a coerced ``LC_CTYPE`` that
    is not in it was added by the interpreter, and a plain exec would not have passed it on.
    """
    if env.get(COERCED_NAME) not in COERCED_VALUES:
        return
    names = _kernel_names()
    if names is not None and os.fsencode(COERCED_NAME) not in names:
        del env[COERCED_NAME]


def restore_cwd(environ: MutableMapping[str, str]) -> None:
    """Go back to the caller's working directory, which the launchers handed over.

    Removes the variable first, so nothing started later sees it. Raises OSError when the
    directory cannot be entered any more (deleted or made unreachable meanwhile).
    """
    saved = environ.pop(CWD_SAVED, None)
    if saved:
        os.chdir(saved)


def cleanup(environ: Mapping[str, str]) -> dict[str, str]:
    """Return *environ* without what PyInstaller and staticx added for themselves."""
    env = {k: v for k, v in environ.items() if not k.startswith(PREFIXES)}
    saved_tmpdir = environ.get(TMPDIR_SAVED)
    if saved_tmpdir is not None:
        _restore(env, "TMPDIR", saved_tmpdir[1:] if saved_tmpdir.startswith("=") else None)
    if is_frozen():
        _restore(env, "LD_LIBRARY_PATH", env.pop("LD_LIBRARY_PATH" + ORIG_SUFFIX, None))
    _without_coercion(env)
    return env


def _restore(env: dict[str, str], name: str, original: str | None) -> None:
    if original is None:
        env.pop(name, None)
    else:
        env[name] = original
