"""What each start-up item of issue 15 saves: import botocore and create the S3 and SSM clients.

    .venv/bin/python bench/items.py [--runs N]      (prints JSON)

Each variant runs in a fresh interpreter (unfrozen, .venv's python), interleaved round by
round, and reports the CPU time (user+sys of that interpreter, less noisy than wall time on
a shared machine) from its first line to two created clients; no request is sent.
Variants, each adding one item to the previous: stock botocore; + the botocore.docs stub;
+ the urllib3.http2 stub; + the trimmed models (injector's session as it runs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("stock", "docs stub", "docs + http2 stubs", "stubs + trimmed models")


def child(variant: str, models: str) -> float:
    """Import and create the clients the way *variant* says; return CPU milliseconds."""
    start = time.process_time()
    if variant == "docs stub":
        import urllib3.connection  # noqa: F401, PLC0415 - the real http2 package: no stub for it
    if variant != "stock":
        from injector.backends import boto  # noqa: PLC0415 - installs the stubs

        session = boto.new_session(Path(models)) if "models" in variant else None
    if variant == "stock" or session is None:
        import botocore.session  # noqa: PLC0415

        session = botocore.session.get_session()
    session.set_credentials("AKIDEXAMPLE", "secret")
    for service in ("s3", "ssm"):
        session.create_client(service, region_name="eu-west-1")
    return (time.process_time() - start) * 1000


def measure(runs: int) -> dict[str, dict[str, float]]:
    """Return median and min CPU ms per variant over *runs* interleaved rounds (+1 warm-up)."""
    sys.path.insert(0, str(ROOT / "packaging"))
    import trim_models  # noqa: PLC0415

    samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="bench-items-") as tmp:
        trim_models.generate(Path(tmp))
        env = {
            "PATH": "/usr/bin:/bin", "HOME": tmp, "PYTHONPATH": str(ROOT),
            "AWS_CONFIG_FILE": os.path.join(tmp, "none"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for round_no in range(runs + 1):
            order = list(VARIANTS)
            random.shuffle(order)
            for variant in order:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", variant, tmp],
                    env=env, capture_output=True, text=True, check=True, cwd=ROOT,
                )
                if round_no:
                    samples[variant].append(float(done.stdout))
    return {v: {"median": statistics.median(s), "min": min(s), "n": len(s)}
            for v, s in samples.items()}


def main() -> int:
    """Measure (or, with --child, be one variant)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "MODELS"))
    args = parser.parse_args()
    if args.child:
        print(f"{child(*args.child):.3f}")
        return 0
    print(json.dumps(measure(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
