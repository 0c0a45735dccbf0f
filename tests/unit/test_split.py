"""injector.split: the forked child's half of a large fetch, its pipe, its deadline, its end."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from unittest import mock

import pytest

from injector import split
from injector.deadline import Deadline
from injector.errors import InjectorError, SecretNotFoundError, UnavailableError
from injector.references import parse

pytestmark = pytest.mark.unit

SOURCES = [parse(f"ref+s3://bucket/key-{n}").source for n in range(20)]


def _batch(number: int, outcome: bytes | InjectorError | None = None):
    """Return a batch for SOURCES[number]: *outcome*, or the pid of the process that ran it."""

    def run() -> dict:
        return {SOURCES[number]: outcome if outcome is not None else str(os.getpid()).encode()}

    return run


def _halves(batches: list) -> tuple[list, list]:
    """Return the even batches (here) and the odd ones (there)."""
    return batches[0::2], batches[1::2]


def _run_here(batches, _workers) -> dict:
    """Fetch as one process would, without threads."""
    outcomes: dict = {}
    for batch in batches:
        outcomes.update(batch())
    return outcomes


def test_every_other_batch_is_fetched_by_a_child_and_comes_back() -> None:
    """The even batches run here, the odd ones in another process; all 20 outcomes arrive."""
    batches = [_batch(n) for n in range(20)]
    outcomes = split.fetch(*_halves(batches), SOURCES, 8, Deadline(10), _run_here)
    assert set(outcomes) == set(SOURCES)
    here = str(os.getpid()).encode()
    assert {outcomes[SOURCES[n]] for n in range(0, 20, 2)} == {here}
    theirs = {outcomes[SOURCES[n]] for n in range(1, 20, 2)}
    assert len(theirs) == 1
    assert here not in theirs


def test_errors_cross_with_their_class_and_message() -> None:
    """A child's SecretNotFoundError arrives as one, with its message and without a value."""
    batches = [_batch(n) for n in range(20)]
    batches[1] = _batch(1, SecretNotFoundError("the object does not exist"))
    outcome = split.fetch(*_halves(batches), SOURCES, 4, Deadline(10), _run_here)[SOURCES[1]]
    assert isinstance(outcome, SecretNotFoundError)
    assert outcome.message == "the object does not exist"


def test_a_failed_child_leaves_its_sources_missing_and_is_reaped() -> None:
    """A child whose fetch raises delivers nothing; the parent's half still arrives."""
    parent = os.getpid()

    def fetch_part(batches, workers):
        if os.getpid() != parent:
            raise RuntimeError("boom")
        return _run_here(batches, workers)

    outcomes = split.fetch(
        *_halves([_batch(n) for n in range(20)]), SOURCES, 4, Deadline(10), fetch_part
    )
    assert set(outcomes) == {SOURCES[n] for n in range(0, 20, 2)}
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_late_child_is_killed_at_the_deadline() -> None:
    """A child still fetching when the deadline (plus the grace) passes is killed and reaped."""
    parent = os.getpid()

    def fetch_part(batches, workers):
        if os.getpid() != parent:
            time.sleep(30)
        return _run_here(batches, workers)

    started = time.monotonic()
    outcomes = split.fetch(
        *_halves([_batch(n) for n in range(20)]), SOURCES, 4, Deadline(0.3), fetch_part
    )
    assert time.monotonic() - started < 0.3 + split.GRACE + 1.0
    assert set(outcomes) == {SOURCES[n] for n in range(0, 20, 2)}
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_records_round_trip_and_a_cut_record_ends_the_report() -> None:
    """Values and errors decode as encoded; a truncated last record is dropped, not guessed."""
    report = split.encode(0, b"value\x00with nul") + split.encode(3, UnavailableError("late"))
    decoded = split.decode(report, SOURCES)
    assert decoded[SOURCES[0]] == b"value\x00with nul"
    assert isinstance(decoded[SOURCES[3]], UnavailableError)
    assert split.decode(report + split.encode(5, b"abcdef")[:-2], SOURCES).keys() == {
        SOURCES[0],
        SOURCES[3],
    }


def test_an_unknown_error_class_arrives_as_unavailable() -> None:
    """A record naming no InjectorError class becomes UnavailableError (exit 69)."""
    body = b"NotAnError\x00odd"
    report = split.HEADER.pack(2, split.ERROR, len(body)) + body
    assert type(split.decode(report, SOURCES)[SOURCES[2]]) is UnavailableError


def test_usable_cpus_follow_the_cgroup_quota(tmp_path: Path) -> None:
    """cpu.max caps the affinity; "max" or no file leaves the affinity."""
    affinity = float(len(os.sched_getaffinity(0)))
    assert split.usable_cpus(str(tmp_path)) == affinity
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert split.usable_cpus(str(tmp_path)) == affinity
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert split.usable_cpus(str(tmp_path)) == min(affinity, 0.5)


def test_one_worker_one_cpu_or_another_thread_never_split() -> None:
    """One worker, under 1.5 CPUs or a second thread: no fork."""
    with mock.patch.object(split, "usable_cpus", return_value=2.0):
        assert split.worthwhile(2) == (threading.active_count() == 1)
        assert not split.worthwhile(1)
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        try:
            assert not split.worthwhile(32)
        finally:
            stop.set()
            other.join()
    with mock.patch.object(split, "usable_cpus", return_value=1.0):
        assert not split.worthwhile(32)


def test_a_refused_fork_fetches_everything_here() -> None:
    """A refused fork (pids.max, seccomp) is no error: every batch runs in this process."""
    batches = [_batch(n) for n in range(20)]
    with mock.patch.object(os, "fork", side_effect=BlockingIOError("pids.max")):
        outcomes = split.fetch(*_halves(batches), SOURCES, 4, Deadline(10), _run_here)
    assert set(outcomes) == set(SOURCES)
    assert set(outcomes.values()) == {str(os.getpid()).encode()}


def test_partition_gives_whole_services_and_cuts_the_largest() -> None:
    """34 S3, 4 SSM, 2 SM calls: SSM here, SM there, S3 cut so both have 25 units of work."""
    s3, ssm, sm = ([_batch(0)] * 34, [_batch(1)] * 4, [_batch(2)] * 2)
    shared, here, there = split.partition([s3, ssm, sm])
    assert shared == 0
    assert [len(group) for group in here] == [16, 4]
    assert [len(group) for group in there] == [18, 2]
    assert sum(map(len, here)) + split.CLIENT_COST == 25
    assert sum(map(len, there)) + split.CLIENT_COST == 25


def test_partition_of_one_service_halves_it() -> None:
    """One service alone: its batches are cut in two halves, nothing lost."""
    shared, here, there = split.partition([[_batch(0)] * 25])
    assert shared == 0
    assert ([len(g) for g in here], [len(g) for g in there]) == ([13], [12])


def test_partition_of_heavy_other_services_keeps_the_largest_here() -> None:
    """When the others outweigh the largest, the shared group can go all to one side."""
    big, a, b = [_batch(0)] * 12, [_batch(1)] * 11, [_batch(2)] * 11
    _, here, there = split.partition([a, big, b])
    assert sum(map(len, here)) + sum(map(len, there)) == 34
    assert abs(sum(map(len, here)) - sum(map(len, there))) <= 1
