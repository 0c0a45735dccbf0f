"""``injector encrypt``: not available yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from injector.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

FLAGS: dict[str, bool] = {}


def main(_config: Config, _flags: Mapping[str, str | None], _args: Sequence[str]) -> int:
    """Refuse: this subcommand comes in a later version."""
    raise UsageError("'encrypt' is not available yet")
