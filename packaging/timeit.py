"""Median wall time of a command over N runs (the packaging README's figures).

    python packaging/timeit.py [-n RUNS] [--env K=V ...] -- COMMAND [ARG...]

Prints the median, min and max in milliseconds and the peak RSS of the largest child
(ru_maxrss of the children, in MB). With --to-exec the command's target must be
``/bin/date +%s%N``: the figure is then the time from the start to the target's exec
(what the start-up budget counts), not to the whole process tree's exit (which adds the
launchers' clean-up of their temporary directories).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def main() -> int:
    """Run the command RUNS times after one warm-up and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--to-exec", action="store_true")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    env = dict(os.environ)
    env.update(item.split("=", 1) for item in args.env)
    times = []
    for i in range(args.runs + 1):
        wall = time.time_ns()
        start = time.perf_counter()
        done = subprocess.run(args.command, env=env, capture_output=True, check=False)
        elapsed = (time.perf_counter() - start) * 1000
        if done.returncode != 0:
            print(f"exit code {done.returncode}: {done.stderr[-500:]!r}", file=sys.stderr)
            return 1
        if args.to_exec:
            elapsed = (int(done.stdout.split()[-1]) - wall) / 1e6
        if i:
            times.append(elapsed)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"median {statistics.median(times):.0f} ms  min {min(times):.0f}  "
        f"max {max(times):.0f}  runs {len(times)}  peak-rss {rss:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
