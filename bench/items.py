"""What each start-up item of issue 15 saves: import botocore and create the S3 and SSM clients.

    .venv/bin/python bench/items.py [--runs N] [--instructions]      (prints JSON)

Each variant runs in a fresh interpreter (unfrozen, .venv's python), interleaved round by
round, and reports the CPU time (user+sys of that interpreter, less noisy than wall time on
a shared machine) from its first line to two created clients; no request is sent.
Variants, each adding one item to the previous: stock botocore; + the cyclic GC paused
while botocore is imported; + the botocore.docs stub; + the urllib3.http2 stub; + the
trimmed models; + the precompiled regular expressions (injector's session as it runs).
With ``--instructions`` each variant also runs once under valgrind's callgrind, whose
instruction count is the same from run to run even on a busy machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (
    "stock",
    "gc paused",
    "docs stub",
    "docs + http2 stubs",
    "stubs + trimmed models",
    "+ precompiled regexes",
)
REGEXES = "regexes_items.py"  # packaging/regex_cache.py's output, in the temporary directory


def _regexes(variant: str, models: str) -> None:
    """Give boto.py the precompiled regexes for the last variant only (none otherwise)."""
    module = None
    if variant == "+ precompiled regexes":
        import importlib.util  # noqa: PLC0415

        spec = importlib.util.spec_from_file_location("injector._regexes", Path(models) / REGEXES)
        if spec and spec.loader:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    sys.modules["injector._regexes"] = module  # type: ignore[assignment]  # None: not primed


def child(variant: str, models: str) -> float:
    """Import and create the clients the way *variant* says; return CPU milliseconds."""
    start = time.process_time()
    _regexes(variant, models)
    if variant == "docs stub":
        gc.disable()  # as boto would, for this import too
        import urllib3.connection  # noqa: F401, PLC0415 - the real http2 package: no stub for it
    session = None
    if variant not in {"stock", "gc paused"}:
        from injector.backends import boto  # noqa: PLC0415 - installs the stubs

        gc.enable()

        trimmed = variant.endswith(("models", "regexes"))
        session = boto.new_session(Path(models)) if trimmed else None
    if variant in {"stock", "gc paused"} or session is None:
        if variant == "gc paused":
            gc.disable()
        import botocore.session  # noqa: PLC0415

        if variant == "gc paused":
            gc.freeze()
            gc.enable()
        session = botocore.session.get_session()
    session.set_credentials("AKIDEXAMPLE", "secret")
    for service in ("s3", "ssm"):
        session.create_client(service, region_name="eu-west-1")
    return (time.process_time() - start) * 1000


def instructions(env: dict[str, str], models: str) -> dict[str, int]:
    """Return callgrind's instruction count of each variant (one run each)."""
    counts = {}
    for variant in VARIANTS:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--child",
                variant,
                models,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found:
            counts[variant] = int(found.group(1))
    return counts


def measure(runs: int, *, count: bool = False) -> dict[str, dict[str, float]]:
    """Return median and min CPU ms per variant over *runs* interleaved rounds (+1 warm-up)."""
    sys.path.insert(0, str(ROOT / "packaging"))
    import trim_models  # noqa: PLC0415

    samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="bench-items-") as tmp:
        trim_models.generate(Path(tmp))
        subprocess.run(
            [sys.executable, str(ROOT / "packaging" / "regex_cache.py"), str(Path(tmp) / REGEXES)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": tmp,
            "PYTHONPATH": str(ROOT),
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
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                if round_no:
                    samples[variant].append(float(done.stdout))
        counted = instructions(env, tmp) if count and shutil.which("valgrind") else {}
    result: dict[str, dict[str, float]] = {
        v: {"median": statistics.median(s), "min": min(s), "n": len(s)} for v, s in samples.items()
    }
    for variant, number in counted.items():
        result[variant]["instructions"] = number
    return result


def main() -> int:
    """Measure (or, with --child, be one variant)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--instructions", action="store_true", help="also count (callgrind)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "MODELS"))
    args = parser.parse_args()
    if args.child:
        print(f"{child(*args.child):.3f}")
        return 0
    print(json.dumps(measure(args.runs, count=args.instructions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
