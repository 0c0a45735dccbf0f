"""Importing the botocore layer leaves Python's cyclic collector as the program had it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
gc.disable()
import injector.backends.boto
assert not gc.isenabled(), "the collector was switched on"
print("off")
"""


def test_collector_stays_off_when_it_was_off(tmp_path: Path) -> None:
    """A process that disabled gc before importing the backends still has it disabled after."""
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    rcfile = os.environ.get("INJECTOR_COVERAGE_RC")
    prefix = [sys.executable, "-m", "coverage", "run", f"--rcfile={rcfile}"] if rcfile else []
    done = subprocess.run(
        [*(prefix or [sys.executable]), str(script)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "off\n"
