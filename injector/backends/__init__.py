"""One backend module per AWS service, loaded only when a reference needs it.

Each backend module exposes ``batches(sources, clients) -> list[Batch]``: a Batch is a
callable that performs one or more API calls and returns, for every Source it covers,
either the secret's bytes or the InjectorError that explains why not.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends.aws import Clients
    from injector.errors import InjectorError
    from injector.references import Source

Batch = Callable[[], "dict[Source, bytes | InjectorError]"]

MODULES = {
    "s3": "injector.backends.s3",
    "ssm": "injector.backends.ssm",
    "secretsmanager": "injector.backends.secretsmanager",
    "kms": "injector.backends.kms",
    "ssmpath": "injector.backends.ssm_path",
}


class Backend(Protocol):
    """The narrow interface every backend module implements."""

    def batches(self, sources: Sequence[Source], clients: Clients) -> list[Batch]:
        """Group *sources* into calls."""
        ...


def load(service: str) -> Backend:
    """Import the backend module for *service*."""
    module: Backend = importlib.import_module(MODULES[service])
    return module
