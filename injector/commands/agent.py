"""``injector agent serve|check-config|doctor|whoami``: the host agent (docs/agent.md).

A thin shim: injector.agent is imported only here, only for the subcommand asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from injector.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

FLAGS: dict[str, bool] = {"--config": True, "--json": False}
SUBCOMMANDS = ("serve", "check-config", "doctor", "whoami")
DEFAULT_CONFIG = "/etc/injector/agent.toml"


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Run one agent subcommand."""
    if not args or args[0] not in SUBCOMMANDS:
        raise UsageError(f"agent needs one of {', '.join(SUBCOMMANDS)}")
    if len(args) > 1:
        raise UsageError(f"agent {args[0]} takes no arguments, not {args[1]!r}")
    module = importlib.import_module("injector.agent.commands")
    code: int = module.run(args[0], config, flags.get("--config") or DEFAULT_CONFIG, flags)
    return code
