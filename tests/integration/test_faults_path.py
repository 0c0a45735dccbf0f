"""GetParametersByPath under throttling: its rate limit is far below GetParameters'."""

from __future__ import annotations

import pytest

from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


@pytest.fixture
def path(seed):
    """Twelve parameters below /thr (two pages)."""
    for i in range(12):
        seed.parameter(f"/thr/k{i}", f"throttled-value-{i}")


def test_throttled_pages_are_retried(aws_env, proxy, path) -> None:
    """Throttling on both pages is retried with backoff; every variable arrives."""
    rule = proxy.add_rule(operation="GetParametersByPath", error="ThrottlingException", times=3)
    env = child_env(run({**aws_env, "AWS_ENDPOINT_URL": proxy.url},
                        {"INJECTOR_ENV_FROM": "ref+awsssm://thr/"}))
    assert rule.hits == 3
    assert all(env[f"K{i}".encode()] == f"throttled-value-{i}".encode() for i in range(12))
    assert proxy.count("GetParametersByPath") == 3 + 2


def test_throttled_second_page_is_retried(aws_env, proxy, path) -> None:
    """A throttled NextToken page is retried (not restarted, not dropped)."""
    rule = proxy.add_rule(operation="GetParametersByPath", body="NextToken",
                          error="ThrottlingException", times=2)
    env = child_env(run({**aws_env, "AWS_ENDPOINT_URL": proxy.url},
                        {"INJECTOR_ENV_FROM": "ref+awsssm://thr/"}))
    assert rule.hits == 2
    assert env[b"K11"] == b"throttled-value-11"


def test_endless_throttling_is_69_within_the_deadline(aws_env, proxy, path) -> None:
    """Throttled for good: exit 69 naming the path after the retries, nothing exec'd."""
    proxy.add_rule(operation="GetParametersByPath", error="ThrottlingException")
    proc = run({**aws_env, "AWS_ENDPOINT_URL": proxy.url, "INJECTOR_TIMEOUT": "20"},
               {"INJECTOR_ENV_FROM": "ref+awsssm://thr/"}, "true")
    assert proc.returncode == 69
    assert "ref+awsssm://thr/" in proc.err
    assert proc.duration < 20
