"""The container side of the host agent imports nothing heavy; exec never imports the agent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("botocore", "boto3", "docker", "requests", "urllib3", "tomllib", "s3transfer")


def imported(args: list[str], env: dict[str, str]) -> tuple[int, set[str]]:
    """Run ``python -X importtime -m injector ARGS``; return its exit code and every module."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "injector", *args],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done.returncode, modules


def test_agent_mode_imports_no_aws_sdk(tmp_path: Path) -> None:
    """INJECTOR_AGENT: no botocore/boto3/docker on the path (an unreachable agent gives 69)."""
    url = f"unix://{tmp_path}/no-agent.sock"
    code, modules = imported(["--", "true"], {"INJECTOR_AGENT": url, "INJECTOR_TIMEOUT": "0.5"})
    assert code == 69
    assert "injector.agent.client" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_plain_exec_never_imports_the_agent() -> None:
    """The plain exec path (no reference) imports no part of injector.agent."""
    code, modules = imported(["--", "true"], {})
    assert code == 0
    assert not [m for m in modules if m.startswith("injector.agent")]


def test_references_in_agent_mode_are_refused(tmp_path: Path) -> None:
    """In agent mode the container's own references are a configuration error (78)."""
    url = f"unix://{tmp_path}/no-agent.sock"
    code, _ = imported(["--", "true"], {"INJECTOR_AGENT": url, "DB": "ref+s3://b/k"})
    assert code == 78


def check_config(path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """Run ``injector agent check-config --config PATH`` on *text*."""
    from tests.support import runner

    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        runner.command(["agent", "check-config", "--config", str(path)]),
        env=runner.environment({"PATH": os.environ.get("PATH", "/usr/bin:/bin")}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


POLICY = """version = 1
[[policy]]
name = "a"
match.labels = { team = "x" }
env.A = "ref+s3://b/a"
"""


def test_check_config(tmp_path: Path) -> None:
    """check-config: 0 for a good policy, 78 naming a typo'd key or an ambiguous pair."""
    good = check_config(tmp_path / "good.toml", POLICY)
    assert (good.returncode, good.stdout) == (0, "policy a: A\nok\n")
    typo = check_config(tmp_path / "typo.toml", POLICY.replace("match.labels", "match.lables"))
    assert typo.returncode == 78
    assert "policy.a.match.lables: unknown key" in typo.stderr
    twice = POLICY + POLICY.replace('"a"', '"b"').replace("version = 1\n", "")
    ambiguous = check_config(tmp_path / "ambiguous.toml", twice)
    assert ambiguous.returncode == 78
    assert "ambiguous: a container could match both a and b" in ambiguous.stdout
