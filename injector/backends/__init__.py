"""One backend module per AWS service, loaded only when a reference needs it.

Each backend module exposes ``batches(sources, clients) -> list[Batch]``: a Batch is a
callable that performs one or more API calls and returns, for every Source it covers,
either the secret's bytes or the InjectorError that explains why not. Backends build their
batches with :func:`guarded`, the one place where a failure becomes an outcome and gets the
reference it is about; store writes (``put``, ``encrypt``) go through :func:`attributed`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from injector.backends.aws import Clients
    from injector.errors import InjectorError
    from injector.references import Source

Batch = Callable[[], "dict[Source, bytes | InjectorError]"]
Outcome = dict["Source", "bytes | InjectorError"]
T = TypeVar("T")

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


def guarded(
    sources: Iterable[Source], label: Callable[[Source], str], fetch: Callable[[], Outcome]
) -> Batch:
    """Make a Batch of *fetch*: any exception is every source's outcome; each error is labelled.

    *fetch* returns outcomes for some or all of *sources*; errors in it carry no reference
    yet. This is the only place a backend's error gets the reference (``label(source)``).
    """
    covered = tuple(sources)

    def run() -> Outcome:
        try:
            outcome = fetch()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
            from injector.backends.errors import translate  # noqa: PLC0415 - imports botocore

            outcome = dict.fromkeys(covered, translate(exc))
        return {source: _labelled(value, label(source)) for source, value in outcome.items()}

    return run


def _labelled(value: bytes | InjectorError, reference: str) -> bytes | InjectorError:
    return value if isinstance(value, bytes) else named(value, reference)


def named(error: InjectorError, reference: str) -> InjectorError:
    """Return *error* (same class, same message) about *reference*."""
    return type(error)(error.message, reference=reference)


def attributed(reference: str, action: Callable[[], T]) -> T:
    """Run a store write; raise its failure as the InjectorError naming *reference*."""
    from injector.backends.errors import translate  # noqa: PLC0415 - imports botocore

    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - reported with its exit code, without the value
        raise named(translate(exc), reference) from None
