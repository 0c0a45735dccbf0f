"""Fetch every distinct source once, in parallel, within the deadline.

Sources are grouped by service; each backend turns its group into batches (one API call
or a few), and the batches run on a bounded thread pool. JSON pointers and ``optional``
are applied afterwards, per reference, so two references to one secret cost one fetch.
"""

from __future__ import annotations

from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from injector import backends, jsonpointer, log
from injector.backends.aws import MAX_BYTES, Clients
from injector.errors import InjectorError, SecretNotFoundError, UnavailableError
from injector.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.deadline import Deadline
    from injector.references import Reference, Source

Outcomes = dict["Source", "bytes | InjectorError"]


def resolve_each(
    refs: Sequence[Reference],
    deadline: Deadline,
    max_concurrency: int,
    *,
    max_bytes: int = MAX_BYTES,
) -> dict[Reference, Secret | InjectorError | None]:
    """Fetch every reference once; keep each one's Secret, None (optional, missing) or error.

    *max_bytes* caps each secret (``config.max_secret_bytes``), checked while reading.
    """
    clients = Clients(deadline, max_concurrency, max_bytes=max_bytes)
    try:
        outcomes = _fetch_all(_batches(refs, clients), deadline, max_concurrency, refs)
    except InjectorError as exc:  # the deadline passed, or a reference cannot be planned
        return dict.fromkeys(refs, exc)
    return {ref: _outcome(ref, outcomes[ref.source]) for ref in refs}


def _batches(refs: Sequence[Reference], clients: Clients) -> list[Batch]:
    by_service: dict[tuple[str, tuple[tuple[str, str], ...]], dict[Source, None]] = {}
    for ref in refs:
        key = (ref.source.service, ref.source.auth)
        by_service.setdefault(key, {}).setdefault(ref.source)
    groups: list[list[Batch]] = []
    per_auth: dict[tuple[tuple[str, str], ...], Clients] = {
        (): clients
    }  # one session per distinct profile/role (credentials.py)
    for (service, auth), sources in by_service.items():
        if auth not in per_auth:
            per_auth[auth] = Clients(
                clients.deadline, clients.max_pool, auth, max_bytes=clients.max_bytes
            )
        groups.append(backends.load(service).batches(list(sources), per_auth[auth]))
    return interleave(groups)


def interleave(groups: Sequence[Sequence[Batch]]) -> list[Batch]:
    """Order the batches round-robin over the groups (one per service and auth).

    The pool takes batches in this order: each service's first call (and the creation of
    its client) starts in the first round instead of after every batch of the services
    listed before it.
    """
    ordered: list[Batch] = []
    for rank in range(max((len(group) for group in groups), default=0)):
        ordered.extend(group[rank] for group in groups if rank < len(group))
    return ordered


def _fetch_all(
    batches: list[Batch], deadline: Deadline, workers: int, refs: Sequence[Reference]
) -> Outcomes:
    outcomes: Outcomes = {}
    pool = ThreadPoolExecutor(max_workers=min(workers, len(batches)))
    futures = [pool.submit(batch) for batch in batches]
    done, pending = wait(futures, timeout=deadline.remaining(), return_when=FIRST_EXCEPTION)
    pool.shutdown(wait=False, cancel_futures=True)
    for future in done:
        outcomes.update(future.result())
    if pending:
        missing = [r for r in refs if r.source not in outcomes]
        msg = f"overall deadline of {deadline.seconds:g}s passed with {len(missing)} pending"
        for ref in missing:  # name every reference still pending, not only the first
            outcomes[ref.source] = UnavailableError(msg, reference=str(ref))
    return outcomes


def _outcome(ref: Reference, outcome: bytes | InjectorError) -> Secret | InjectorError | None:
    try:
        return _one(ref, outcome)
    except InjectorError as exc:
        return exc


def _one(ref: Reference, outcome: bytes | InjectorError) -> Secret | None:
    if isinstance(outcome, SecretNotFoundError) and ref.optional:
        log.warning("optional_secret_missing", reference=str(ref))
        return None
    if isinstance(outcome, InjectorError):
        raise type(outcome)(outcome.message, reference=str(ref))
    log.register_secret(outcome)
    value = outcome
    if ref.pointer is not None:
        value = jsonpointer.select(outcome, ref.pointer, reference=str(ref))
        log.register_secret(value)
    return Secret(value)
