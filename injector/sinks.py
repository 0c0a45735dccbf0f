"""Build the child's environment in memory from a Prepared start.

It is the original environment, minus references and control variables (the plan's drop
set), plus the secrets. Precedence: explicit references win over everything; variables the
environment already has win over expanded ones (env-files); ``*_FILE`` variables hold paths.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from injector.prepare import check_env

if TYPE_CHECKING:
    from collections.abc import Mapping

    from injector.prepare import Prepared

Env = dict[bytes, bytes]


def child_environment(
    environ: Mapping[str, str],
    prepared: Prepared,
    *,
    pristine: bool,
    files: Mapping[str, str] | None = None,
) -> Env:
    """Compose the environment handed to execve, as bytes.

    *files* maps each ``*_FILE`` variable to the path of the file holding its secret.
    """
    base = {} if pristine else {k: v for k, v in environ.items() if k not in prepared.drop}
    env: Env = {os.fsencode(k): os.fsencode(v) for k, v in base.items()}
    for name, secret in prepared.expanded.items():
        if name not in prepared.env and os.fsencode(name) not in env:
            env[_checked(name, secret.reveal())] = secret.reveal()
    for name, secret in prepared.env.items():
        env[_checked(name, secret.reveal())] = secret.reveal()
    for name in prepared.files:
        path = (files or {}).get(name)
        if path is None:
            from injector.errors import ConfigError  # noqa: PLC0415 - a bug path only

            raise ConfigError(f"the secret file for {name} was not written")
        env[_checked(name, os.fsencode(path))] = os.fsencode(path)
    return env


def _checked(name: str, value: bytes) -> bytes:
    check_env(name, value, reference=None)
    return os.fsencode(name)
