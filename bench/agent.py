"""Host agent benchmark -> bench/agent.md (run by `make bench`, or `make bench-agent` alone).

Figures, side by side in one run on this machine:
- decision latency p50/p99 over 1,000 sequential requests from one container (whoami: the
  whole identity path; bundle: identity + policy + 5 secrets from moto, once_per_start off)
- 50 containers started at once, 5 secrets each, through the agent: served, wall time, AWS calls
- start-to-exec of dist/injector in one Debian image: agent mode, direct mode, no reference
- the agent's RSS idle and under load
- the adversarial matrix: tests/e2e/test_agent.py's denial cases, N cases / 0 false accepts

Needs dist/injector, Docker and the offline test images (make e2e-images); runs as root.
Usage: ``.venv/bin/python bench/agent.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from tests.support.agent import CONTAINER_URL, AgentProcess  # noqa: E402
from tests.support.aws_seed import Seeder, aws_env_for  # noqa: E402
from tests.support.moto_server import MotoServer  # noqa: E402
from tests.support.proxy import Proxy  # noqa: E402

BUCKET = "agent-bench"
LABEL = "com.example.service"
BINARY = ROOT / "dist" / "injector"
OUT = ROOT / "bench" / "agent.md"
LOOP = """
import json, socket, sys, time
def once(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    t = time.perf_counter()
    s.connect("/run/injector/agent.sock")
    s.sendall(b"GET " + path + b" HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:80]
    return (time.perf_counter() - t) * 1000
counts = {"/v1/whoami": int(sys.argv[1]), "/v1/bundle": int(sys.argv[2])}
out = {p: [once(p.encode()) for _ in range(n)] for p, n in counts.items()}
print(json.dumps(out))
"""


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; ``run`` never pulls (a missing image fails, no registry)."""
    if args and args[0] == "run":
        args = ("run", "--pull", "never", *args[1:])
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def policies() -> str:
    """Return the bench policy: five secrets of three kinds."""
    return f"""
[[policy]]
name = "bench"
match.labels = {{ "{LABEL}" = "bench" }}
env.S1 = "ref+s3://{BUCKET}/s1"
env.S2 = "ref+s3://{BUCKET}/s2"
env.S3 = "ref+awsssm:///bench/s3"
env.S4 = "ref+awssecrets://bench/s4"
files.S5 = "ref+s3://{BUCKET}/s5"
"""


def seed(url: str) -> dict[str, str]:
    """Seed the five secrets; return the direct-mode environment naming them."""
    seeder = Seeder(url)
    seeder.object(BUCKET, "s1", "v1-" + uuid.uuid4().hex)
    seeder.object(BUCKET, "s2", "v2-" + uuid.uuid4().hex)
    seeder.parameter("/bench/s3", "v3-" + uuid.uuid4().hex)
    seeder.secret("bench/s4", "v4-" + uuid.uuid4().hex)
    seeder.object(BUCKET, "s5", "v5-" + uuid.uuid4().hex)
    return {
        "S1": f"ref+s3://{BUCKET}/s1",
        "S2": f"ref+s3://{BUCKET}/s2",
        "S3": "ref+awsssm:///bench/s3",
        "S4": "ref+awssecrets://bench/s4",
        "S5_FILE": f"ref+s3://{BUCKET}/s5",
    }


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(agent: AgentProcess, image: str, count: int, bundles: int) -> dict:
    """Sequential requests from one container (whoami, then bundle): client and agent times."""
    name = f"injector-bench-agent-{uuid.uuid4().hex[:8]}"
    before = len(agent.decisions())
    done = docker(
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "none",
        *agent.mount(),
        "--label",
        f"{LABEL}=bench",
        image,
        "python3",
        "-c",
        LOOP,
        str(count),
        str(bundles),
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    client = json.loads(done.stdout)
    audit = agent.decisions()[before:]
    server = {
        path: [e["latency_ms"] for e in audit if e["path"] == path]
        for path in ("/v1/whoami", "/v1/bundle")
    }
    return {"client": client, "server": server}


def crowd(agent: AgentProcess, proxy: Proxy, image: str, count: int) -> dict:
    """*count* containers at once, 5 secrets each, through the agent."""
    calls_before = len(proxy.calls())
    peak = [agent.rss_kib()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.append(agent.rss_kib())
            time.sleep(0.05)

    def one(i: int) -> bool:
        name = f"injector-bench-crowd-{uuid.uuid4().hex[:8]}-{i}"
        done = docker(
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "none",
            *agent.mount(),
            "-v",
            f"{BINARY}:/sbin/injector:ro",
            "--entrypoint",
            "/sbin/injector",
            "-e",
            f"INJECTOR_AGENT={CONTAINER_URL}",
            "-e",
            "INJECTOR_TIMEOUT=120",
            "--label",
            f"{LABEL}=bench",
            image,
            "sh",
            "-c",
            'test -n "$S1$S2$S3$S4" && test -s "$S5_FILE" && echo OK',
            timeout=600,
        )
        return done.returncode == 0 and "OK" in done.stdout

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(one, range(count)))
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    return {
        "containers": count,
        "served": sum(results),
        "wall_s": wall,
        "aws_calls": len(proxy.calls()) - calls_before,
        "rss_peak_kib": max(peak),
    }


STAMP = "date +%s%N"


def env_options(env: dict[str, str]) -> list[str]:
    """Return ``-e NAME=VALUE`` options for `docker run`."""
    return [word for key, value in env.items() for word in ("-e", f"{key}={value}")]


def start_to_exec(
    agent: AgentProcess, image: str, direct_env: dict, moto_url: str, runs: int
) -> dict:
    """Nanoseconds from just before /sbin/injector to the target's first line, per mode."""
    script = f'a=$({STAMP}); /sbin/injector -- {STAMP}; echo "$a"'
    direct_aws = {
        **direct_env,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    modes = {
        "agent": [
            *agent.mount(),
            "--network",
            "none",
            "-e",
            f"INJECTOR_AGENT={CONTAINER_URL}",
            "--label",
            f"{LABEL}=bench",
        ],
        "direct": ["--network", "host", *env_options(direct_aws)],
        "no reference": ["--network", "none"],
    }
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(runs):
        for mode, options in modes.items():
            done = docker(
                "run",
                "--rm",
                *options,
                "-v",
                f"{BINARY}:/sbin/injector:ro",
                "--entrypoint",
                "/bin/sh",
                image,
                "-c",
                script,
            )
            lines = done.stdout.split()
            if done.returncode != 0 or len(lines) < 2:
                raise RuntimeError(f"{mode}: {done.stderr[-1500:]}")
            times[mode].append((int(lines[-2]) - int(lines[-1])) / 1e6)
    return {mode: statistics.median(values) for mode, values in times.items()}


def adversarial() -> dict:
    """Run the e2e denial cases; every pass is a refused attempt, a failure a false accept."""
    cases = (
        "not secrets_arrive and not whoami and not restart_is_a_new_start"
        " and not static_binary_agent and not config_from_a_reference and not doctor"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e/test_agent.py",
            "-q",
            "-m",
            "container",
            "-k",
            cases,
            "-p",
            "no:randomly",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=ROOT,
        check=False,
    )
    log = ROOT / "build" / "bench" / "agent-adversarial.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
    found = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error)", tail)}
    return {
        "passed": found.get("passed", 0),
        "failed": found.get("failed", 0) + found.get("error", 0),
        "skipped": found.get("skipped", 0),
        "summary": tail,
    }


def main() -> int:
    """Run every figure and write bench/agent.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10x fewer requests, 10 containers")
    args = parser.parse_args()
    requests, bundles, containers, runs = (100, 50, 10, 3) if args.quick else (1000, 200, 50, 7)
    if not BINARY.is_file():
        sys.exit(f"{BINARY} is missing: make binary-local")
    with tempfile.TemporaryDirectory() as tmp:
        server = MotoServer(Path(tmp)).start()
        proxy = Proxy(server.url).start()
        try:
            direct_env = seed(server.url)
            env = aws_env_for(proxy.url, Path(tmp))
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
            settings = {"once_per_start": False, "max_start_age": "1h", "request_timeout": "60s"}
            agent = AgentProcess(env, settings, policies()).start()
            try:
                time.sleep(1)
                idle = agent.rss_kib()
                lat = latency(agent, "injector-test/debian-python", requests, bundles)
                loaded = crowd(agent, proxy, "injector-test/busybox", containers)
                starts = start_to_exec(agent, "injector-test/debian", direct_env, server.url, runs)
            finally:
                agent.stop()
        finally:
            proxy.stop()
            server.stop()
    matrix = adversarial()
    figures = {"latency": lat, "crowd": loaded, "starts": starts, "idle": idle, "matrix": matrix}
    report = render(figures, quick=args.quick)
    OUT.write_text(report)
    print(report)
    return 0 if matrix["failed"] == 0 and loaded["served"] == loaded["containers"] else 1


def render(figures: dict, *, quick: bool) -> str:
    """Format the figures (latency, crowd, starts, idle, matrix) as Markdown."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    head = [
        "# Host agent benchmark",
        "",
        f"`make bench` (bench/agent.py{' --quick' if quick else ''}); {machine}; {when}.",
        "Agent: `python -m injector agent serve` on the host; moto on 127.0.0.1 behind our",
        "counting proxy; containers `--network none` with the socket directory mounted.",
        "",
    ]
    return "\n".join(
        [
            *head,
            *_latency(figures["latency"]),
            *_crowd(figures["crowd"]),
            *_starts(figures["starts"]),
            *_memory(figures["idle"], figures["crowd"]),
            *_matrix(figures["matrix"]),
        ]
    )


def _latency(lat: dict) -> list[str]:
    rows = []
    for path in ("/v1/whoami", "/v1/bundle"):
        c, s = lat["client"][path], lat["server"][path]
        rows.append(
            f"| `GET {path}` | {len(c)} | {pct(c, 0.5):.1f} / {pct(c, 0.99):.1f} ms "
            f"| {pct(s, 0.5):.1f} / {pct(s, 0.99):.1f} ms |"
        )
    return [
        "## Decision latency (sequential, one container)",
        "",
        "| request | n | client p50 / p99 | agent p50 / p99 (audit `latency_ms`) |",
        "|---|---|---|---|",
        *rows,
        "",
        "`whoami` is the whole identity path (cgroup, engine inspect of container and image,",
        "pid namespace, depth, labels, pidfd): the decision. `bundle` adds the policy and 5",
        "secrets fetched from moto through the one pipeline (a new botocore session and clients",
        "per request: that, not the decision, is its cost).",
        "",
    ]


def _crowd(loaded: dict) -> list[str]:
    n, served, calls = loaded["containers"], loaded["served"], loaded["aws_calls"]
    return [
        "## Many containers at once",
        "",
        f"{n} containers started at once (busybox, dist/injector in agent mode, 5 secrets",
        f"each): **{served}/{n} served** in {loaded['wall_s']:.1f} s wall, {calls} AWS calls",
        f"({calls / max(1, served):.1f} per container).",
        "",
    ]


def _starts(starts: dict) -> list[str]:
    floor = starts["no reference"]
    return [
        "## Start-to-exec (dist/injector, injector-test/debian, medians)",
        "",
        "| mode | start-to-exec | vs no reference |",
        "|---|---|---|",
        *(f"| {mode} | {ms:.0f} ms | {ms / floor:.2f}x |" for mode, ms in starts.items()),
        "",
        "Agent mode imports no botocore in the container",
        "(tests/integration/test_agent_client.py).",
        "",
    ]


def _memory(idle: int, loaded: dict) -> list[str]:
    peak = loaded["rss_peak_kib"] / 1024
    return [
        "## Agent memory",
        "",
        f"RSS idle {idle / 1024:.1f} MiB; peak under the {loaded['containers']}-container load",
        f"{peak:.1f} MiB.",
        "",
    ]


def _matrix(matrix: dict) -> list[str]:
    return [
        "## Adversarial matrix",
        "",
        f"**{matrix['passed']} cases / {matrix['failed']} false accepts** (an upper bound: every",
        "failing case is counted as one; each case asserts the refusal and that the target did",
        f"not run; {matrix['skipped']} skipped; pytest: {matrix['summary']}; output in",
        "build/bench/agent-adversarial.log). Cases: tests/e2e/test_agent.py minus its",
        "good-path tests: no policy, host process, second request, too late, too deep,",
        "docker exec, image label, privileged, host pid, protocol errors, malformed answers,",
        "silent client and agent, unreachable, engine down, missing and denied secrets, reload,",
        "namespace refusal, the PID-reuse race on both defences, cgroup spoofs.",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
