"""Fetch every distinct source once, in parallel, within the deadline.

Sources are grouped by service; each backend turns its group into batches (one API call
or a few), and the batches run on a bounded thread pool. JSON pointers and ``optional``
are applied afterwards, per reference, so two references to one secret cost one fetch.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from injector import backends, jsonpointer, log
from injector.backends.aws import Clients
from injector.errors import InjectorError, SecretNotFoundError, UnavailableError
from injector.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.deadline import Deadline
    from injector.references import Reference, Source

Outcomes = dict["Source", "bytes | InjectorError"]


def resolve(
    refs: Sequence[Reference], deadline: Deadline, max_concurrency: int
) -> dict[Reference, Secret | None]:
    """Return each reference's Secret, or None for an optional one that is missing.

    Raises the first failure (in reference order) after logging every failure.
    """
    started = time.monotonic()
    clients = Clients(deadline, max_concurrency)
    outcomes = _fetch_all(_batches(refs, clients), deadline, max_concurrency, refs)
    results, failures = _apply(refs, outcomes)
    for failure in failures[1:]:  # the first one is the final error line
        log.error(
            "secret_failed",
            reference=failure.reference,
            error=failure.message,
            kind=failure.kind,
            exit_code=failure.exit_code,
        )
    if failures:
        raise failures[0]
    log.debug(
        "resolved",
        references=len(refs),
        sources=len(outcomes),
        ms=round((time.monotonic() - started) * 1000, 1),
    )
    return results


def _batches(refs: Sequence[Reference], clients: Clients) -> list[Batch]:
    by_service: dict[str, dict[Source, None]] = {}
    for ref in refs:
        by_service.setdefault(ref.source.service, {}).setdefault(ref.source)
    batches: list[Batch] = []
    for service, sources in by_service.items():
        batches.extend(backends.load(service).batches(list(sources), clients))
    return batches


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
        missing = [str(r) for r in refs if r.source not in outcomes]
        msg = f"overall deadline of {deadline.seconds:g}s passed with {len(missing)} pending"
        raise UnavailableError(msg, reference=missing[0] if missing else None)
    return outcomes


def _apply(
    refs: Sequence[Reference], outcomes: Outcomes
) -> tuple[dict[Reference, Secret | None], list[InjectorError]]:
    results: dict[Reference, Secret | None] = {}
    failures: list[InjectorError] = []
    for ref in refs:
        try:
            results[ref] = _one(ref, outcomes[ref.source])
        except InjectorError as exc:
            failures.append(exc)
    return results, failures


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
