"""What this build is: the version, the commit and the build's inputs."""

from __future__ import annotations

import platform
import sys

from injector import __version__


def describe() -> list[str]:
    """Lines describing this build."""
    try:
        from injector import _build  # type: ignore[attr-defined]  # noqa: PLC0415
    except ImportError:
        info = {"commit": "unknown (not a release build)"}
    else:
        info = dict(_build.INFO)
    frozen = "static binary" if getattr(sys, "frozen", False) else "python module"
    lines = [f"injector {__version__}", f"form: {frozen}"]
    lines += [f"{key}: {value}" for key, value in info.items()]
    lines.append(f"python: {platform.python_version()}")
    lines.append(f"machine: {platform.machine()}")
    return lines
