"""Placeholder: the secretsmanager backend is parsed but not fetched yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from injector.errors import ConfigError, InjectorError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:  # noqa: ARG001
    """Report every source as not supported yet."""

    def run() -> dict[Source, bytes | InjectorError]:
        return {
            s: ConfigError("the secretsmanager store is not supported yet", reference=s.name)
            for s in sources
        }

    return [run]
