"""bench/replay.py and bench/floor.py against a real moto: what section 3a measures is real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import runner
from tests.support.aws_seed import Seeder
from tests.support.moto_server import MotoServer

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bench  # noqa: E402


@pytest.fixture
def replay(moto: MotoServer, tmp_path: Path) -> Iterator[bench.ReplayServer]:
    """Return bench/replay.py replaying moto's answers with no added latency."""
    server = bench.ReplayServer(tmp_path, moto.url, 0.0).start()
    yield server
    server.stop()


def test_injector_gets_moto_answers_replayed(
    replay: bench.ReplayServer, seed: Seeder, aws_env: dict[str, str]
) -> None:
    """Each call injector makes is answered from moto once, then replayed; calls counted."""
    refs = bench.seed_scaling(seed, 6)
    env = {**aws_env, "AWS_ENDPOINT_URL": replay.url}
    env.update({f"S{i}": ref for i, ref in enumerate(refs)})
    printed = " ".join(f"$S{i}" for i in range(len(refs)))
    for _ in range(2):
        replay.clear()
        result = runner.run(env, "sh", "-c", f"echo {printed}", target_prints=True)
        assert result.code == 0, result.err
        assert result.stdout.strip() == b"s3-0 ssm-1 sm-2 s3-3 ssm-4 sm-5"
        assert replay.operations() == {"GetObject": 2, "GetParameters": 1, "BatchGetSecretValue": 1}
    assert replay.recorded() == 4


def test_floor_sends_the_calls_injector_makes(
    replay: bench.ReplayServer, seed: Seeder, tmp_path: Path
) -> None:
    """The curl floor makes the batched calls, and each one returns its values (checked)."""
    refs = bench.seed_scaling(seed, 30)
    variant = bench.floor_variant(tmp_path, replay, refs)
    replay.clear()
    done = subprocess.run([*variant.argv, "true"], env=variant.env, check=False, timeout=60)
    assert done.returncode == 0
    assert replay.operations() == {"GetObject": 10, "GetParameters": 1, "BatchGetSecretValue": 1}


def test_timeline_reports_cpu_by_part(seed: Seeder, aws_env: dict[str, str]) -> None:
    """bench/timeline.py times and counts every part it wraps, CPU included, per call."""
    refs = bench.seed_scaling(seed, 6)
    env = {**aws_env, "INJECTOR_LOG_LEVEL": "error"}
    env.update({f"S{i}": ref for i, ref in enumerate(refs)})
    done = subprocess.run(
        [sys.executable, str(BENCH / "timeline.py")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(done.stdout)
    kinds = result["kinds"]
    assert result["code"] == 0
    assert {kind: kinds[kind]["n"] for kind in ("call", "http", "sign", "parse")} == dict.fromkeys(
        ("call", "http", "sign", "parse"), 4
    )
    assert kinds["create"]["n"] == 3
    assert kinds["useragent"]["n"] >= 4
    assert 0 < kinds["call"]["cpu"] <= result["check_cpu_ms"]
    nested = sum(kinds[kind]["cpu"] for kind in ("http", "sign", "parse"))
    assert nested <= kinds["call"]["cpu"]
    row = bench.timeline_row(6, [result, result])
    assert row["call_cpu"] == kinds["call"]["cpu"]
    assert row["resolve_cpu"] == result["check_cpu_ms"]
    assert kinds["create"]["cpu"] <= row["get_cpu"]
    (sentence,) = bench.cpu_analysis(row, row)
    assert f"the {kinds['call']['n']} calls take {kinds['call']['cpu']:.0f} ms" in sentence
    assert "the growth is botocore's per-call work" in sentence


def test_replay_runs_at_the_priority_it_reports(replay: bench.ReplayServer) -> None:
    """The replaying server says which priority it got, and the kernel agrees."""
    granted = replay.priority()
    assert granted in {"SCHED_FIFO", "nice -10", "normal"}
    assert replay._proc is not None
    policy = os.sched_getscheduler(replay._proc.pid)
    assert (policy == os.SCHED_FIFO) == (granted == "SCHED_FIFO")
