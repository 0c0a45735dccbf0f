"""Batches run in an order that starts every service's first call early, and clients are shared."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from injector.backends import aws
from injector.deadline import Deadline
from injector.resolve import interleave

if TYPE_CHECKING:
    import pytest

    from injector.backends import Batch


def _batch(label: str) -> Batch:
    def run() -> dict[Any, Any]:
        return {label: b""}

    run.__name__ = label
    return run


def _names(batches: list[Batch]) -> list[str]:
    return [batch.__name__ for batch in batches]


def test_round_robin_over_services() -> None:
    """Each group's first batch comes before any group's second one; nothing is lost."""
    s3 = [_batch(f"s3-{i}") for i in range(4)]
    ssm = [_batch(f"ssm-{i}") for i in range(2)]
    sm = [_batch("sm-0")]
    ordered = _names(interleave([s3, ssm, sm]))
    assert ordered[:3] == ["s3-0", "ssm-0", "sm-0"]
    assert ordered == ["s3-0", "ssm-0", "sm-0", "s3-1", "ssm-1", "s3-2", "s3-3"]


def test_empty_groups() -> None:
    """No groups, or empty ones, give no batches."""
    assert interleave([]) == []
    assert interleave([[], []]) == []


def test_one_client_per_service_under_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Concurrent look-ups create each (service, region) client once and share it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients = aws.Clients(Deadline(30), 4)
    made: list[str] = []

    def create(service: str, region: str) -> object:
        made.append(f"{service}@{region}")
        return object()

    monkeypatch.setattr(clients, "_create", create)
    got: list[object] = []
    threads = [
        threading.Thread(target=lambda s=s: got.append(clients.get(s, None, reference="r")))
        for s in ("s3", "ssm", "s3", "ssm", "s3")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(made) == ["s3@eu-west-1", "ssm@eu-west-1"]
    assert len({id(client) for client in got}) == len(made)
