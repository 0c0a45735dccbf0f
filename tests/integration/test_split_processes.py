"""Many secrets over two processes (injector/split.py), against the real moto server and IMDS."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest

from injector import resolve, split
from tests.support import runner

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(split.usable_cpus() < split.MIN_CPUS, reason="the split needs 2 CPUs"),
]

COUNT = resolve.SPLIT_FROM + 6  # S3 objects: one call each
TIMEOUT = 3.0
SLACK = 4.0
NO_CHILD = """
import os, sys
try:
    os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    sys.exit(0)
sys.exit(3)
"""


@pytest.fixture
def objects(seed) -> dict[str, bytes]:
    """COUNT S3 objects with distinct random values, by the variable that asks for each."""
    seed.bucket("many")
    values = {}
    for number in range(COUNT):
        value = f"value-{number}-{secrets.token_hex(8)}".encode()
        seed.object("many", f"k{number}", value, create=False)
        values[f"V{number:02d}"] = value
    return values


def _env(base: dict[str, str], count: int = COUNT, **extra: str) -> dict[str, str]:
    refs = {f"V{n:02d}": f"ref+s3://many/k{n}" for n in range(count)}
    return {**base, "PATH": os.environ["PATH"], "INJECTOR_LOG_LEVEL": "debug", **refs, **extra}


def _split_events(result: runner.Run) -> list[dict]:
    return [event for event in result.events() if event.get("event") == "fetch_split"]


def test_many_secrets_arrive_through_two_processes(aws_env, objects) -> None:
    """Every value arrives, the debug log names the child, no value reaches stderr."""
    result = runner.run(_env(aws_env), "env", "-0", target_prints=True)
    assert result.returncode == 0, result.err
    child_env = result.child_env()
    assert {name: child_env[name.encode()] for name in objects} == objects
    (event,) = _split_events(result)
    assert event["calls_here"] + event["calls_there"] == COUNT
    assert not [value for value in objects.values() if value in result.stderr]


def test_the_target_has_no_child_left_to_wait_for(aws_env, objects) -> None:
    """The child is reaped before the exec: the target process has no child of ours."""
    result = runner.run(_env(aws_env), sys.executable, "-c", NO_CHILD)
    assert result.returncode == 0, result.err
    assert _split_events(result)


def test_single_process_keeps_it_in_one(aws_env, objects) -> None:
    """INJECTOR_SINGLE_PROCESS=1: the same values, no fork."""
    env = _env(aws_env, INJECTOR_SINGLE_PROCESS="1")
    result = runner.run(env, "env", "-0", target_prints=True)
    child_env = result.child_env()
    assert {name: child_env[name.encode()] for name in objects} == objects
    assert not _split_events(result)
    assert b"INJECTOR_SINGLE_PROCESS" not in b"".join(child_env)


def test_instance_credentials_are_asked_for_once(imds_env, imds, objects) -> None:
    """With IMDS credentials both processes sign with the keys fetched once, before the fork."""
    one = runner.run(_env(imds_env, 1), "true")
    assert one.returncode == 0, one.err
    asked_for_one = [r for r in imds.requests if "security-credentials" in r[1]]
    imds.requests.clear()
    many = runner.run(_env(imds_env), "true")
    assert many.returncode == 0, many.err
    assert _split_events(many)
    assert [r for r in imds.requests if "security-credentials" in r[1]] == asked_for_one


def test_the_deadline_holds_over_both_processes(aws_env, proxy, objects, tmp_path: Path) -> None:
    """Answers that never come: 69 within the deadline, every reference named, nothing run."""
    proxy.add_rule(operation="GetObject", delay=30.0)
    marker = tmp_path / "ran"
    env = _env(aws_env, AWS_ENDPOINT_URL=proxy.url, INJECTOR_TIMEOUT=str(TIMEOUT))
    result = runner.run(env, "touch", str(marker))
    assert result.returncode == 69, result.err
    assert not marker.exists()
    assert result.duration < TIMEOUT + SLACK
    assert f"overall deadline of 3s passed with {COUNT} pending" in result.err
    assert all(f"ref+s3://many/k{n}" in result.err for n in range(COUNT))


def test_stock_http_delivers_the_same_over_both_processes(aws_env, objects) -> None:
    """INJECTOR_STOCK_HTTP=1 (botocore's urllib3 session): the same values; the variable goes."""
    env = _env(aws_env, INJECTOR_STOCK_HTTP="1")
    result = runner.run(env, "env", "-0", target_prints=True)
    child_env = result.child_env()
    assert {name: child_env[name.encode()] for name in objects} == objects
    assert _split_events(result)
    assert b"INJECTOR_STOCK_HTTP" not in b"".join(child_env)
