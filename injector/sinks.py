"""Build the child's environment in memory.

It is the original environment, minus references and control variables, plus the
secrets, with what the frozen launchers added undone.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from injector.errors import BadDataError, ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from injector.plan import Delivery, Plan
    from injector.references import Reference
    from injector.secret import Secret

# Linux refuses any single "NAME=value" string longer than this (MAX_ARG_STRLEN).
MAX_ENV_STRING = 128 * 1024

Env = dict[bytes, bytes]


def child_environment(  # noqa: PLR0913 - the file paths are one more keyword input
    environ: Mapping[str, str],
    plan: Plan,
    values: Mapping[Reference, Secret | None],
    env_file_pairs: list[tuple[str, bytes]],
    *,
    pristine: bool,
    files: Mapping[str, str] | None = None,
) -> Env:
    """Compose the environment handed to execve, as bytes.

    *files* maps each ``*_FILE`` variable to the path of the file holding its secret.
    """
    base = {} if pristine else {k: v for k, v in environ.items() if k not in plan.drop}
    env: Env = {os.fsencode(k): os.fsencode(v) for k, v in base.items()}
    explicit = {d.variable for d in plan.deliveries}
    for name, value in env_file_pairs:
        if name not in explicit and os.fsencode(name) not in env:
            env[_name(name)] = value
    for delivery in plan.deliveries:
        secret = values.get(delivery.reference)
        if secret is None:
            continue
        if delivery.to_file:
            env[_name(delivery.variable)] = os.fsencode(_file_path(delivery, files))
            continue
        raw = secret.reveal()
        env[_name(delivery.variable)] = raw.strip() if delivery.trim else raw
    _validate(env)
    return env


def _file_path(delivery: Delivery, files: Mapping[str, str] | None) -> str:
    path = (files or {}).get(delivery.variable)
    if path is None:
        msg = "the secret file for this *_FILE variable was not written"
        raise ConfigError(msg, reference=str(delivery.reference))
    return path


def _name(name: str) -> bytes:
    if not name or "=" in name or "\x00" in name:
        raise BadDataError(f"{name!r} cannot be an environment variable name")
    return os.fsencode(name)


def _validate(env: Env) -> None:
    for name, value in env.items():
        label = name.decode("utf-8", "replace")
        if b"\x00" in value:
            msg = f"the value for {label} contains a NUL byte, which an environment cannot hold"
            raise BadDataError(msg)
        if len(name) + len(value) + 2 > MAX_ENV_STRING:
            msg = (
                f"the value for {label} is {len(value)} bytes, above Linux's 128 KiB limit "
                "for one environment string; deliver it as a file (*_FILE)"
            )
            raise BadDataError(msg)
