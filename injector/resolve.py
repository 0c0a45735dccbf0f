"""Fetch every distinct source once, in parallel, within the deadline.

Sources are grouped by service; each backend turns its group into batches (one API call
or a few), and the batches run on a bounded thread pool. JSON pointers and ``optional``
are applied afterwards, per reference, so two references to one secret cost one fetch.
"""

from __future__ import annotations

import functools
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, NamedTuple

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
CLIENT_OF = {"ssmpath": "ssm"}  # the botocore client a backend's calls go through
SPLIT_FROM = 24  # calls; at 18 the fork's copied pages cost what the child's half saves


def resolve_each(  # noqa: PLR0913 - the run's bounds and switches, each from config
    refs: Sequence[Reference],
    deadline: Deadline,
    max_concurrency: int,
    *,
    max_bytes: int = MAX_BYTES,
    split: bool = False,
    direct_http: bool = True,
) -> dict[Reference, Secret | InjectorError | None]:
    """Fetch every reference once; keep each one's Secret, None (optional, missing) or error.

    *max_bytes* caps each secret (``config.max_secret_bytes``), checked while reading.
    *split*: many calls may be shared with a forked child process (injector/split.py).
    *direct_http*: calls go over http.client (backends/transport.py), else botocore's stock
    urllib3 session (``INJECTOR_STOCK_HTTP=1``).
    """
    clients = Clients(deadline, max_concurrency, max_bytes=max_bytes, direct_http=direct_http)
    try:
        groups = _groups(refs, clients)
        batches = interleave([group.batches for group in groups])
        if split and len(batches) >= SPLIT_FROM and not any(ref.source.auth for ref in refs):
            outcomes = _fetch_split(refs, groups, batches, clients, max_concurrency)
        else:
            outcomes = _fetch_all(batches, max_concurrency, deadline=clients.deadline)
    except InjectorError as exc:  # the deadline passed, or a reference cannot be planned
        return dict.fromkeys(refs, exc)
    _undelivered(refs, outcomes, deadline)
    return {ref: _outcome(ref, outcomes[ref.source]) for ref in refs}


def _fetch_split(
    refs: Sequence[Reference],
    groups: list[Group],
    batches: list[Batch],
    clients: Clients,
    workers: int,
) -> Outcomes:
    """Share the calls with a forked child when that is possible (injector/split.py).

    *batches* are the groups' batches interleaved: the one-process order, if not.
    """
    from injector import split as two  # noqa: PLC0415 - only for many secrets

    fetch = functools.partial(_fetch_all, deadline=clients.deadline)
    shared, here, there = two.partition([group.batches for group in groups])
    services = {(_client_of(s.service), s.region): None for s in groups[shared].sources}
    if not two.worthwhile(workers) or not clients.prepare(services):
        return fetch(batches, workers)
    sources = list(dict.fromkeys(ref.source for ref in refs))
    return two.fetch(interleave(here), interleave(there), sources, workers, clients.deadline, fetch)


def _client_of(service: str) -> str:
    return CLIENT_OF.get(service, service)


def _undelivered(refs: Sequence[Reference], outcomes: Outcomes, deadline: Deadline) -> None:
    """Give every source without an outcome the reason: the deadline, or a lost child."""
    missing = [ref for ref in refs if ref.source not in outcomes]
    if not missing:
        return
    if deadline.remaining() <= 0:
        msg = f"overall deadline of {deadline.seconds:g}s passed with {len(missing)} pending"
    else:
        msg = "the process fetching it ended without an answer"
    for ref in missing:  # name every reference still pending, not only the first
        outcomes[ref.source] = UnavailableError(msg, reference=str(ref))


class Group(NamedTuple):
    """The sources of one service (and one profile/role) and the batches that fetch them."""

    sources: list[Source]
    batches: list[Batch]


def _groups(refs: Sequence[Reference], clients: Clients) -> list[Group]:
    by_service: dict[tuple[str, tuple[tuple[str, str], ...]], dict[Source, None]] = {}
    for ref in refs:
        key = (ref.source.service, ref.source.auth)
        by_service.setdefault(key, {}).setdefault(ref.source)
    groups: list[Group] = []
    per_auth: dict[tuple[tuple[str, str], ...], Clients] = {
        (): clients
    }  # one session per distinct profile/role (credentials.py)
    for (service, auth), found in by_service.items():
        if auth not in per_auth:
            per_auth[auth] = Clients(
                clients.deadline,
                clients.max_pool,
                auth,
                max_bytes=clients.max_bytes,
                direct_http=clients.direct_http,
            )
        sources = list(found)
        groups.append(Group(sources, backends.load(service).batches(sources, per_auth[auth])))
    return groups


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


def _fetch_all(batches: list[Batch], workers: int, *, deadline: Deadline) -> Outcomes:
    """Run *batches* on up to *workers* threads; leave out what is pending at the deadline."""
    outcomes: Outcomes = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(batches))))
    futures = [pool.submit(batch) for batch in batches]
    done, _ = wait(futures, timeout=deadline.remaining(), return_when=FIRST_EXCEPTION)
    pool.shutdown(wait=False, cancel_futures=True)
    for future in done:
        outcomes.update(future.result())
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
