"""Load scenarios shared by tests/integration/test_load.py (CI size) and bench/load.py (full).

``many_processes``: N injector processes started at once through the proxy, which answers 30%
of calls with ThrottlingException (S3: SlowDown). ``many_secrets``: one process, N secrets mixed
over S3, SSM and Secrets Manager. Both check every value and return their figures.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from typing import TYPE_CHECKING, Any

from tests.support import runner

if TYPE_CHECKING:
    from tests.support.aws_seed import Seeder
    from tests.support.proxy import Proxy

THROTTLE_PROBABILITY = 0.3
# One call per backend path: GetObject, GetParameters, BatchGetSecretValue, Decrypt.
MIN_CALLS_PER_PROCESS = 4
# At 30% throttling, 5 attempts fail a call with probability 0.3**5 = 0.24%: about 2 of 800
# calls for 200 processes. 10 attempts (0.0006%) is what such a storm needs.
ATTEMPTS = "10"
BUCKET = "load"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def seed_processes(seed: Seeder, count: int) -> list[tuple[dict[str, str], dict[bytes, bytes]]]:
    """Seed secrets for *count* processes; return each one's references and expected values."""
    seed.bucket(BUCKET)
    seed.parameter("/load/shared", "load-shared-parameter")
    seed.secret("load/shared", "load-shared-secret")
    kms = f"ref+awskms://{seed.kms_encrypt('load-kms-plaintext')}"
    plans = []
    for i in range(count):
        extra = {
            "S3": seed.object(BUCKET, f"obj{i}", f"load-object-{i}", create=False),
            "P": f"ref+awsssm://load/p{i}",
            "PS": "ref+awsssm://load/shared",
            "SM": f"ref+awssecrets://load/s{i}",
            "SMS": "ref+awssecrets://load/shared",
            "K": kms,
        }
        seed.parameter(f"/load/p{i}", f"load-parameter-{i}")
        seed.secret(f"load/s{i}", f"load-secret-{i}")
        expected = {
            b"S3": f"load-object-{i}".encode(),
            b"P": f"load-parameter-{i}".encode(),
            b"PS": b"load-shared-parameter",
            b"SM": f"load-secret-{i}".encode(),
            b"SMS": b"load-shared-secret",
            b"K": b"load-kms-plaintext",
        }
        plans.append((extra, expected))
    return plans


def many_processes(  # noqa: PLR0913 - the benchmark reports failures instead of asserting
    base: dict[str, str],
    proxy: Proxy,
    seed: Seeder,
    count: int,
    timeout: float,
    *,
    check: bool = True,
) -> dict[str, Any]:
    """Start *count* injectors at once under 30% throttling; check them; return the figures."""
    seeding = time.monotonic()
    plans = seed_processes(seed, count)
    seeding = time.monotonic() - seeding
    proxy.clear()
    rule = proxy.add_rule(error="ThrottlingException", probability=THROTTLE_PROBABILITY)
    env = {
        **base,
        "AWS_ENDPOINT_URL": proxy.url,
        "PATH": os.environ["PATH"],
        "AWS_MAX_ATTEMPTS": ATTEMPTS,
        "INJECTOR_TIMEOUT": str(timeout),
    }
    started = time.monotonic()
    running = [
        runner.start({**env, **extra}, "env", "-0", target_prints=True) for extra, _ in plans
    ]
    results = [one.wait(timeout + 60) for one in running]
    wall = time.monotonic() - started
    failed = [r.err[-300:] for r in results if r.code != 0]
    assert not (check and failed), f"{len(failed)} of {count} failed, e.g. {failed[0]}"
    for result, (_, expected) in zip(results, plans, strict=True):
        if result.code != 0:
            continue
        env_seen = result.child_env()
        assert {k: env_seen[k] for k in expected} == expected
    calls = proxy.calls()
    served = [c for c in calls if c.fault is None]
    durations = [r.duration for r in results]
    return {
        "processes": count,
        "failed": len(failed),
        "seed_s": seeding,
        "wall_s": wall,
        "p50_s": statistics.median(durations),
        "p95_s": _percentile(durations, 0.95),
        "max_s": max(durations),
        "deadline_s": timeout,
        "calls": len(calls),
        "throttled": rule.hits,
        "calls_per_process": len(calls) / count,
        "served_per_process": len(served) / count,
        "min_calls_per_process": MIN_CALLS_PER_PROCESS,
    }


def many_secrets(base: dict[str, str], proxy: Proxy, seed: Seeder, count: int) -> dict[str, Any]:
    """Deliver *count* secrets (a third each in S3, SSM, Secrets Manager) to one process."""
    seeding = time.monotonic()
    seed.bucket(BUCKET)
    extra, expected = {}, {}
    for i in range(count):
        kind = i % 3
        value = f"bulk-{kind}-{i}"
        if kind == 0:
            extra[f"B{i}"] = seed.object(BUCKET, f"bulk{i}", value, create=False)
        elif kind == 1:
            seed.parameter(f"/bulk/p{i}", value)
            extra[f"B{i}"] = f"ref+awsssm://bulk/p{i}"
        else:
            seed.secret(f"bulk/s{i}", value)
            extra[f"B{i}"] = f"ref+awssecrets://bulk/s{i}"
        expected[f"B{i}".encode()] = value.encode()
    seeding = time.monotonic() - seeding
    proxy.clear()
    env = {**base, "AWS_ENDPOINT_URL": proxy.url, "PATH": os.environ["PATH"], **extra}
    result = runner.run(env, "env", "-0", target_prints=True, timeout=120)
    seen = result.child_env()
    assert {k: seen[k] for k in expected} == expected
    counts = {op: proxy.count(op) for op in ("GetObject", "GetParameters", "BatchGetSecretValue")}
    per_kind = [len(range(k, count, 3)) for k in range(3)]
    minimum = {
        "GetObject": per_kind[0],
        "GetParameters": math.ceil(per_kind[1] / 10),
        "BatchGetSecretValue": math.ceil(per_kind[2] / 20),
    }
    return {
        "secrets": count,
        "seed_s": seeding,
        "duration_s": result.duration,
        "calls": counts,
        "minimum": minimum,
        "other_calls": len(proxy.operations()) - sum(counts.values()),
    }
