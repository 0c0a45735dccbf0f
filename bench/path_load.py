"""Bench section: 200 SSM parameters as one path (INJECTOR_ENV_FROM) vs 200 references.

Both forms read the same 200 parameters behind the proxy's 20 ms per request; the table has
time to exec and the API calls each form makes (GetParametersByPath pages of 10 against
GetParameters batches of 10). Called from bench.py; report.py renders the rows.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.support.aws_seed import Seeder
    from tests.support.proxy import Proxy

COUNT = 200
PATH = "/bench-path"


def seed(seeder: Seeder) -> None:
    """Create the 200 parameters below /bench-path."""
    for i in range(COUNT):
        seeder.parameter(f"{PATH}/p{i:03d}", f"path-{i}")


def forms() -> dict[str, dict[str, str]]:
    """Return the two ways of asking for the same 200 parameters."""
    explicit = {f"P{i:03d}": f"ref+awsssm:/{PATH}/p{i:03d}" for i in range(COUNT)}
    return {"INJECTOR_ENV_FROM path": {"INJECTOR_ENV_FROM": f"ref+awsssm:/{PATH}/"},
            f"{COUNT} references": explicit}


def section(
    proxy: Proxy, variants: list[Any], runs: int, *, helpers: dict[str, Any]
) -> list[dict[str, Any]]:
    """Measure every (variant, form) *runs* times, interleaved; count the API calls.

    *helpers* are bench.py's ``run_once``, ``summary``, ``target`` and ``latency``.
    """
    run_once: Callable[..., Any] = helpers["run_once"]
    summary: Callable[[Any], dict[str, Any]] = helpers["summary"]
    target, latency = helpers["target"], helpers["latency"]
    proxy.clear_rules()
    proxy.latency(latency)
    cells = [(v, name, extra) for v in variants for name, extra in forms().items()]
    samples: dict[tuple[str, str], list[Any]] = {(v.name, n): [] for v, n, _ in cells}
    calls: dict[tuple[str, str], dict[str, int]] = {}
    for round_no in range(runs + 1):
        random.shuffle(cells)
        for variant, name, extra in cells:
            proxy.clear()
            sample = run_once(variant.argv + target, {**variant.env, **extra})
            if sample.code != 0:
                msg = f"{variant.name} ({name}) exited {sample.code}: {sample.stderr[-600:]!r}"
                raise RuntimeError(msg)
            if round_no:
                samples[variant.name, name].append(sample)
                ops: dict[str, int] = {}
                for _, op in proxy.operations():
                    ops[op] = ops.get(op, 0) + 1
                calls[variant.name, name] = ops
    proxy.clear_rules()
    rows = []
    for (variant_name, name), taken in samples.items():
        holder = type("Held", (), {"name": variant_name, "samples": taken})()
        stats = summary(holder)
        rows.append({"variant": variant_name, "form": name, "exec": stats["exec"],
                     "calls": sum(calls[variant_name, name].values()),
                     "operations": calls[variant_name, name]})
    return rows

