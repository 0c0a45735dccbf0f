"""Load: many injectors at once under throttling, and many secrets in one process.

CI runs a reduced size; ``INJECTOR_LOAD_FULL=1`` (or ``bench/load.py``) runs 200 processes and
1,000 secrets.
"""

from __future__ import annotations

import os

import pytest

from tests.support import load

pytestmark = pytest.mark.load
FULL = os.environ.get("INJECTOR_LOAD_FULL") == "1"
PROCESSES = 200 if FULL else 60
SECRETS = 1000 if FULL else 300
DEADLINE = 120.0


def test_many_processes_under_throttling(aws_env, proxy, seed) -> None:
    """Processes started at once under 30% throttling all start right, at the batched minimum."""
    figures = load.many_processes(aws_env, proxy, seed, PROCESSES, DEADLINE)
    print(figures)
    assert figures["throttled"] > 0
    assert figures["served_per_process"] == load.MIN_CALLS_PER_PROCESS
    assert figures["max_s"] < DEADLINE


def test_many_secrets_in_one_process(aws_env, proxy, seed) -> None:
    """Hundreds of mixed secrets arrive in one start with exactly the batched number of calls."""
    figures = load.many_secrets(aws_env, proxy, seed, SECRETS)
    print(figures)
    assert figures["calls"] == figures["minimum"]
    assert figures["other_calls"] == 0
