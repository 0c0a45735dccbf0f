"""Compare start-up of several builds, interleaved so that machine noise hits all alike.

    python packaging/compare.py [-n ROUNDS] [--s3 ENDPOINT BUCKET/KEY] NAME=BINARY ...

For each round, each binary runs once with no references and (with --s3) once with one
S3 reference; the target is ``/bin/date +%s%N``, so the figure is start-to-exec. Prints a
Markdown table: size and the median time to exec (none / S3); packaging/timeit.py
gives the peak RSS.
A binary named ``python`` is run as ``.venv/bin/python -m injector`` for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ["/bin/date", "+%s%N"]


def once(command: list[str], env: dict[str, str]) -> float:
    """Run once: milliseconds from the start to the target's exec."""
    wall = time.time_ns()
    done = subprocess.run(command + TARGET, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{command}: exit {done.returncode}: {done.stderr[-400:]!r}")
    return (int(done.stdout.split()[-1]) - wall) / 1e6


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--rounds", type=int, default=15)
    parser.add_argument("--s3", nargs=2, metavar=("ENDPOINT", "BUCKET_KEY"))
    parser.add_argument("builds", nargs="+")
    args = parser.parse_args()
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    if "TMPDIR" in os.environ:
        base["TMPDIR"] = os.environ["TMPDIR"]
    s3 = dict(base)
    if args.s3:
        s3.update(
            AWS_ENDPOINT_URL=args.s3[0],
            AWS_ACCESS_KEY_ID="t",
            AWS_SECRET_ACCESS_KEY="t",  # noqa: S106
            AWS_REGION="us-east-1",
            V=f"ref+s3://{args.s3[1]}",
        )
    builds = dict(item.split("=", 1) for item in args.builds)
    commands = {
        name: [str(ROOT / ".venv/bin/python"), "-m", "injector"] if path == "python" else [path]
        for name, path in builds.items()
    }
    results: dict[str, dict[str, list[float]]] = {name: {"none": [], "s3": []} for name in builds}
    for round_ in range(args.rounds + 1):
        for name, command in commands.items():
            for mode, env in (("none", base), ("s3", s3)) if args.s3 else (("none", base),):
                ms = once(command, env)
                if round_:
                    results[name][mode].append(ms)
    print("| build | size | no refs, to exec | one S3 secret, to exec |")
    print("|---|---|---|---|")
    for name, path in builds.items():
        size = f"{os.path.getsize(path) / 1e6:.1f} MB" if path != "python" else "-"
        none = statistics.median(results[name]["none"])
        s3_ms = f"{statistics.median(results[name]['s3']):.0f} ms" if args.s3 else "-"
        print(f"| {name} | {size} | {none:.0f} ms | {s3_ms} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
