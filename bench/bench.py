"""Start-up and scaling benchmarks of injector and its alternatives (``make bench``).

    .venv/bin/python bench/bench.py [--quick] [--build] [--runs N] [--no-docker]
                                    [--step NAME=PATH ...]

Measures, in one invocation, with the variants of each table interleaved round by round:
start to exec with no references; one S3 secret from a moto server on 127.0.0.1 (against
the AWS CLI and a boto3 script; with ``--step``, builds that each add one change to the
previous, dist/injector last); 1-1,000 secrets behind a proxy adding 20 ms per request,
beside curl making the same calls (bench/floor.py: the server side's own share), and 1-100
against moto's answers replayed 20 ms late by bench/replay.py (the client's own share);
size, peak RSS and build time; a cold ``docker run``; and where start-up time goes
(``-X importtime``, strace phases of the binary). Writes ``bench/results.md``, the README's
block between ``<!-- bench:start -->`` and ``<!-- bench:end -->``, and the raw numbers to
``build/bench/results.json``. ``--quick`` is a smoke run: few repetitions, output under
``build/bench/quick/``, README untouched. Nothing but 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import floor  # noqa: E402
import path_load  # noqa: E402
import report  # noqa: E402

from tests.support.aws_seed import FAKE_CREDENTIALS, REGION, Seeder  # noqa: E402
from tests.support.moto_server import MotoServer  # noqa: E402
from tests.support.proxy import Proxy  # noqa: E402
from tests.support.tls import TlsFiles, TlsRelay, make_ca  # noqa: E402

BINARY = ROOT / "dist" / "injector"
VENV_PY = ROOT / ".venv" / "bin" / "python"
BENCH_VENV = ROOT / "build" / "bench-venv"
# awscli 1.46.x vendors its own botocore (no botocore requirement to clash with our 1.44.5);
# 1.45.x pins botocore 1.43.x exactly. Either way it lives in a venv of its own.
AWSCLI_VERSION = "1.46.3"
BUSYBOX = "injector-test/busybox:latest"
OUT = ROOT / "build" / "bench"
BUILD_TIME = OUT / "build-time.json"
DATE_TARGET = ["/bin/date", "+%s%N"]
SECRET = "s3-secret-value-0123456789abcdefghijklm\n"  # noqa: S105 - 40 fake bytes
SIZES = (1, 10, 100, 1000)
REPLAY_SIZES = (1, 10, 100, 1000)
TLS_SIZES = (1, 100)
LATENCY = 0.020
DEFAULT_CONCURRENCY = 64  # INJECTOR_MAX_CONCURRENCY's default; the floor uses the same


def log(msg: str) -> None:
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- running


@dataclass
class Sample:
    """One run: whole wall time, time to the target's exec, peak RSS of the tree."""

    exit_ms: float
    exec_ms: float | None
    rss_mb: float
    stdout: bytes
    stderr: bytes
    code: int
    cpu_ms: float = 0.0


@dataclass
class Variant:
    """A command line to which the target is appended, and its environment."""

    name: str
    argv: list[str]
    env: dict[str, str]
    samples: list[Sample] = field(default_factory=list)


def run_once(argv: list[str], env: dict[str, str], timeout: float = 300) -> Sample:
    """Run *argv* under GNU time: wall time, and the tree's peak RSS from time's wait4.

    ``/usr/bin/time`` (a small C program, ~1 ms) is the parent so that peak RSS is the
    command's own: a child forked or vforked from this Python process would report this
    process's ~40 MB as its high-water mark. Every variant pays the same millisecond.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss,
    ):
        wall = time.time_ns()
        start = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name, *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        # A blocking waitpid, with a watchdog for the timeout: Popen.wait(timeout) polls
        # with sleeps growing to 50 ms, which would quantise every "to exit" figure.
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            proc.wait()
        finally:
            watchdog.cancel()
        elapsed = (time.perf_counter() - start) * 1000
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        fields = (rss.read().strip().splitlines() or [""])[-1].split()
        peak_kb, cpu_ms = 0, 0.0
        with contextlib.suppress(ValueError, IndexError):
            peak_kb = int(fields[0])
            cpu_ms = (float(fields[1]) + float(fields[2])) * 1000
    exec_ms = None
    if argv[-2:] == DATE_TARGET and proc.returncode == 0:
        with contextlib.suppress(ValueError, IndexError):
            exec_ms = (int(stdout.split()[-1]) - wall) / 1e6
    return Sample(elapsed, exec_ms, peak_kb / 1024, stdout, stderr, proc.returncode, cpu_ms)


def measure(variants: list[Variant], runs: int, target: list[str] | None = None) -> None:
    """Run every variant *runs* times (+1 warm-up), interleaved in a new random order each round."""
    target = target or DATE_TARGET
    for round_no in range(runs + 1):
        order = variants[:]
        random.shuffle(order)
        for variant in order:
            sample = run_once(variant.argv + target, variant.env)
            if sample.code != 0:
                msg = f"{variant.name} exited {sample.code}: {sample.stderr[-600:]!r}"
                raise RuntimeError(msg)
            if round_no:
                variant.samples.append(sample)


def summary(variant: Variant) -> dict[str, Any]:
    """Return the stats of one variant's samples."""
    execs = [s.exec_ms for s in variant.samples if s.exec_ms is not None]
    return {
        "name": variant.name,
        "exec": report.stats(execs),
        "exit": report.stats(s.exit_ms for s in variant.samples),
        "rss": report.stats(s.rss_mb for s in variant.samples),
        "cpu": report.stats(s.cpu_ms for s in variant.samples),
    }


def check_value(variant: Variant, name: str, expected: str) -> None:
    """Run the variant once with ``printenv NAME`` and insist on the expected value."""
    sample = run_once([*variant.argv, "/usr/bin/printenv", name], variant.env)
    if sample.code != 0 or sample.stdout.decode() != expected + "\n":
        msg = (
            f"{variant.name} did not deliver {name}: exit {sample.code}, "
            f"stdout {sample.stdout[:80]!r}, stderr {sample.stderr[-400:]!r}"
        )
        raise RuntimeError(msg)


def base_env(home: Path) -> dict[str, str]:
    """Return a small, fixed environment: nothing of the caller's leaks into the variants."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": os.environ.get("BENCH_TMPDIR", "/tmp"),
    }


def aws_env(home: Path, endpoint: str) -> dict[str, str]:
    """Return the environment of an AWS client pointed at *endpoint* with fake credentials."""
    env = base_env(home)
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(home / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        }
    )
    return env


BASELINE: list[Path] = []  # --baseline: an older build, measured beside dist/injector
SHM = Path("/dev/shm")
TMPFS_DIRS: list[Path] = []  # the launchers' TMPDIR of the tmpfs row, removed at the end
SERVICE_SCRIPTS = {
    "ssm": ("one SSM SecureString", "boto3_ssm.py"),
    "secretsmanager": ("one Secrets Manager secret", "boto3_secretsmanager.py"),
    "kms": ("one KMS ciphertext", "boto3_kms.py"),
}


def fs_type(path: Path) -> str:
    """Return the type of the file system *path* is on, as ``stat -f`` names it."""
    done = subprocess.run(
        ["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def tmpfs_variant(env: dict[str, str], have_binary: bool) -> list[Variant]:
    """dist/injector with TMPDIR on /dev/shm (when it is an exec-able tmpfs): sections 2, 2b.

    Beside the default row it shows what the launchers' extraction to a disk-backed /tmp
    costs at every start; the targets are judged on the default row.
    """
    if not have_binary:
        return []
    if fs_type(SHM) != "tmpfs" or os.statvfs(SHM).f_flag & os.ST_NOEXEC:
        return []
    if not TMPFS_DIRS:
        TMPFS_DIRS.append(Path(tempfile.mkdtemp(prefix="injector-bench-", dir=SHM)))
    return [Variant(report.TMPFS, [str(BINARY)], {**env, "TMPDIR": str(TMPFS_DIRS[0])})]


def one_process_variant(env: dict[str, str], have_binary: bool) -> list[Variant]:
    """dist/injector with INJECTOR_SINGLE_PROCESS=1 (section 3): what the fork saves."""
    if not have_binary:
        return []
    return [Variant(report.ONE_PROCESS, [str(BINARY)], {**env, "INJECTOR_SINGLE_PROCESS": "1"})]


def injector_variants(env: dict[str, str], have_binary: bool) -> list[Variant]:
    """dist/injector (when built), the --baseline build if any, and ``python -m injector``."""
    variants = []
    if have_binary:
        variants.append(Variant("dist/injector", [str(BINARY)], dict(env)))
    variants.extend(Variant(report.BASELINE, [str(path)], dict(env)) for path in BASELINE)
    variants.append(Variant("python -m injector", [str(VENV_PY), "-m", "injector"], dict(env)))
    return variants


# --------------------------------------------------------------------------- sections


def section_startup(home: Path, runs: int, have_binary: bool) -> list[dict[str, Any]]:
    """1. No references: injector (frozen, unfrozen) against tini and a direct exec."""
    env = base_env(home)
    variants = injector_variants(env, have_binary)
    variants.append(Variant("tini -- (Debian)", ["/usr/bin/tini", "--"], dict(env)))
    variants.append(Variant("direct exec", [], dict(env)))
    measure(variants, runs)
    direct_true = Variant("/bin/true (direct, for comparison)", [], dict(env))
    measure([direct_true], runs, target=["/bin/true"])
    return [summary(v) for v in [*variants, direct_true]]


def awscli() -> Path:
    """Return build/bench-venv/bin/aws, creating that venv with awscli on demand."""
    aws = BENCH_VENV / "bin" / "aws"
    probe = (
        subprocess.run([str(aws), "--version"], capture_output=True, text=True, check=False)
        if aws.exists()
        else None
    )
    if probe is None or f"aws-cli/{AWSCLI_VERSION}" not in probe.stdout + probe.stderr:
        log(f"creating {BENCH_VENV} with awscli=={AWSCLI_VERSION} (once)")
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--clear", str(BENCH_VENV)], check=True)
        subprocess.run(
            [
                str(BENCH_VENV / "bin" / "pip"),
                "install",
                "-q",
                "--disable-pip-version-check",
                f"awscli=={AWSCLI_VERSION}",
            ],
            check=True,
        )
    return aws


def section_one_secret(
    home: Path,
    moto_url: str,
    runs: int,
    have_binary: bool,
) -> tuple[list[dict[str, Any]], str]:
    """2. One S3 secret: injector against the AWS CLI wrapper and a boto3 script."""
    env = aws_env(home, moto_url)
    env["V"] = "ref+s3://bench/one"
    aws = awscli()
    version = subprocess.run(
        [str(aws), "--version"], capture_output=True, text=True, check=False, env=env
    )
    wrapper = f'V=$({aws} s3 cp s3://bench/one -) exec "$@"'
    variants = injector_variants(env, have_binary) + tmpfs_variant(env, have_binary)
    variants.append(
        Variant(
            "sh -c 'V=$(aws s3 cp s3://bench/one -) exec ...' (AWS CLI v1)",
            ["/bin/sh", "-c", wrapper, "sh"],
            dict(env),
        )
    )
    variants.append(boto3_fetch(env))
    variants.append(Variant("direct exec", [], dict(env)))
    for variant in variants[:-1]:
        # $(...) drops the trailing newline; the others are byte-exact.
        check_value(variant, "V", SECRET.rstrip("\n") if "aws s3" in variant.name else SECRET)
    measure(variants, runs)
    cli = (version.stdout + version.stderr).strip()
    note = (
        f"AWS CLI: `{cli}` in its own venv ({BENCH_VENV.relative_to(ROOT)}); boto3 script: "
        "`.venv`'s python3 with boto3 1.44.5."
    )
    return [summary(v) for v in variants], note


def boto3_fetch(env: dict[str, str]) -> Variant:
    """Return the ten-line boto3 script that fetches ``s3://bench/one`` (sections 2 and 2c)."""
    return Variant(
        "boto3 script (bench/boto3_fetch.py)",
        [str(VENV_PY), str(ROOT / "bench" / "boto3_fetch.py")],
        dict(env),
    )


def step_arg(text: str) -> tuple[str, Path]:
    """Parse ``--step NAME=PATH`` (the first ``=`` splits; the path is resolved)."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        msg = f"expected NAME=PATH, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return name, Path(path).resolve()


def steps_in_order(steps: list[tuple[str, Path]], have_binary: bool) -> list[tuple[str, Path]]:
    """Return the --step binaries in order, dist/injector last unless a step already is it."""
    ordered = list(steps)
    if have_binary and all(path != BINARY.resolve() for _, path in ordered):
        ordered.append((report.LAST_STEP, BINARY))
    names = [name for name, _ in ordered]
    if len(set(names)) != len(names):
        msg = f"step names must differ: {', '.join(names)}"
        raise ValueError(msg)
    for name, path in ordered:
        if not (path.is_file() and os.access(path, os.X_OK)):
            msg = f"step {name}: {path} is not an executable file"
            raise ValueError(msg)
    return ordered


def section_steps(
    home: Path,
    moto_url: str,
    runs: int,
    steps: list[tuple[str, Path]],
) -> dict[str, Any]:
    """2c. One build change at a time: each step binary with one S3 secret and with none."""
    env = aws_env(home, moto_url)
    env["V"] = "ref+s3://bench/one"
    fetch = [Variant(name, [str(path)], dict(env)) for name, path in steps]
    plain = [
        Variant(f"{name} (no references)", [str(path)], base_env(home)) for name, path in steps
    ]
    boto3 = boto3_fetch(env)
    for variant in [*fetch, boto3]:
        check_value(variant, "V", SECRET)
    measure([*fetch, *plain, boto3], runs)
    rows = [
        {**summary(one), "path": str(path), "none": summary(none)["exec"]}
        for one, none, (_, path) in zip(fetch, plain, steps, strict=True)
    ]
    log(
        "2c. "
        + ", ".join(f"{r['name']} {r['exec']['median']:.0f} ms" for r in rows)
        + f", boto3 script {summary(boto3)['exec']['median']:.0f} ms"
    )
    return {"rows": rows, "boto3": summary(boto3)}


def seed_services(seeder: Seeder) -> dict[str, str]:
    """Create one SSM SecureString, one Secrets Manager secret, one KMS ciphertext; return refs."""
    seeder.parameter("/bench/secure", SECRET)
    seeder.secret("bench/one", SECRET)
    kms = seeder.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=SECRET.encode())["CiphertextBlob"]
    return {
        "ssm": "ref+awsssm://bench/secure",
        "secretsmanager": "ref+awssecrets://bench/one",
        "kms": "ref+awskms://" + quote(base64.b64encode(blob).decode(), safe=""),
    }


def section_services(
    home: Path,
    moto_url: str,
    refs: dict[str, str],
    runs: int,
    have_binary: bool,
) -> list[dict[str, Any]]:
    """2b. One secret of each other service: injector against an equivalent boto3 script."""
    result = []
    for service, (what, script) in SERVICE_SCRIPTS.items():
        env = aws_env(home, moto_url)
        env["V"] = refs[service]
        variants = injector_variants(env, have_binary) + tmpfs_variant(env, have_binary)
        variants.append(
            Variant(
                f"boto3 script (bench/{script})",
                [str(VENV_PY), str(ROOT / "bench" / script)],
                dict(env),
            )
        )
        for variant in variants:
            check_value(variant, "V", SECRET)
        measure(variants, runs)
        result.append({"service": service, "what": what, "rows": [summary(v) for v in variants]})
        log(
            f"2b. {what}: "
            + ", ".join(
                f"{v.name} {statistics.median(s.exec_ms or 0 for s in v.samples):.0f} ms"
                for v in variants
            )
        )
    return result


def section_items(runs: int, *, count: bool) -> dict[str, Any]:
    """Measure what each item of issue 15 saves (bench/items.py, unfrozen, CPU ms)."""
    argv = [str(VENV_PY), str(ROOT / "bench" / "items.py"), "--runs", str(runs)]
    done = subprocess.run(
        argv + (["--instructions"] if count else []), capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def seed_scaling(seeder: Seeder, count: int) -> list[str]:
    """Create *count* secrets round-robin over S3, SSM and Secrets Manager; return refs."""
    refs = []
    seeder.bucket("bench-scale")
    for i in range(count):
        kind = i % 3
        if kind == 0:
            seeder.client("s3").put_object(
                Bucket="bench-scale", Key=f"k{i:04d}", Body=f"s3-{i}".encode()
            )
            refs.append(f"ref+s3://bench-scale/k{i:04d}")
        elif kind == 1:
            seeder.parameter(f"/bench/p{i:04d}", f"ssm-{i}")
            refs.append(f"ref+awsssm://bench/p{i:04d}")
        else:
            seeder.secret(f"bench/s{i:04d}", f"sm-{i}")
            refs.append(f"ref+awssecrets://bench/s{i:04d}")
    return refs


def scaling_runs(size: int, runs: int) -> int:
    """Fewer repetitions for the slowest size."""
    return max(2, runs // 2) if size >= 1000 else runs


class Counted(Protocol):
    """Where section 3's calls go: a URL, and the calls counted since the last clear."""

    url: str

    def clear(self) -> None:
        """Forget the calls counted so far."""

    def operations(self) -> dict[str, int]:
        """Return the calls since the last clear, by operation."""


class ProxyCalls:
    """The latency proxy in front of moto, as section 3 counts its calls."""

    def __init__(self, proxy: Proxy) -> None:
        """Count what *proxy* records."""
        self.proxy = proxy
        self.url = proxy.url

    def clear(self) -> None:
        """Forget the recorded calls."""
        self.proxy.clear()

    def operations(self) -> dict[str, int]:
        """Return the recorded calls by operation."""
        ops: dict[str, int] = {}
        for _, op in self.proxy.operations():
            ops[op] = ops.get(op, 0) + 1
        return ops


class ReplayServer:
    """bench/replay.py in a process of its own: moto's answers replayed after the latency."""

    def __init__(self, home: Path, upstream: str, latency: float) -> None:
        """Replay what *upstream* (moto) answers, *latency* seconds late."""
        self.home, self.upstream, self.latency = home, upstream, latency
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ReplayServer:
        """Start it and wait (up to 10 s) for its port."""
        port_file = self.home / "replay.port"
        port_file.unlink(missing_ok=True)
        argv = [sys.executable, str(ROOT / "bench" / "replay.py"), self.upstream]
        self._proc = subprocess.Popen([*argv, str(self.latency), str(port_file)])
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text()):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                msg = "bench/replay.py did not start"
                raise RuntimeError(msg)
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port_file.read_text()}"
        return self

    def stop(self) -> None:
        """Stop the process."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()

    def _control(self, method: str, path: str) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, method=method)  # noqa: S310 - ours
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - 127.0.0.1
            stats: dict[str, Any] = json.loads(resp.read())
        return stats

    def clear(self) -> None:
        """Forget the calls counted so far."""
        self._control("POST", "/__replay/clear")

    def operations(self) -> dict[str, int]:
        """Return the calls since the last clear, by operation."""
        ops: dict[str, int] = self._control("GET", "/__replay/stats")["operations"]
        return ops

    def recorded(self) -> int:
        """Return how many distinct answers it recorded from moto."""
        count: int = self._control("GET", "/__replay/stats")["recorded"]
        return count

    def priority(self) -> str:
        """Return the scheduling priority it was granted (``SCHED_FIFO``, ``nice -10``, ...)."""
        granted: str = self._control("GET", "/__replay/stats")["priority"]
        return granted


def section_scaling(  # noqa: PLR0913, PLR0917 - the section's whole context
    home: Path,
    server: Counted,
    refs: list[str],
    runs: int,
    have_binary: bool,
    sizes: tuple[int, ...],
) -> dict[str, Any]:
    """3. 1-1,000 secrets with 20 ms per request: time and API calls (3a: replayed answers)."""
    rows = []
    for size in sizes:
        env = aws_env(home, server.url)
        env.update({f"S{i:04d}": ref for i, ref in enumerate(refs[:size])})
        variants = [
            *injector_variants(env, have_binary),
            *one_process_variant(env, have_binary),
            floor_variant(home, server, refs[:size]),
        ]
        counts = scaling_rounds(server, variants, scaling_runs(size, runs), size)
        rows += [scaling_row(variant, counts[variant.name], size) for variant in variants]
        log(
            f"scaling {size}: "
            + ", ".join(
                f"{r['variant']} {r['exec']['median']:.0f} ms {r['calls']} calls"
                for r in rows
                if r["n"] == size
            )
        )
    return {"latency_ms": LATENCY * 1000, "concurrency": DEFAULT_CONCURRENCY, "rows": rows}


def scaling_rounds(
    server: Counted, variants: list[Variant], runs: int, size: int
) -> dict[str, list[dict[str, int]]]:
    """Run the variants interleaved (+1 warm-up round); return each run's calls by operation."""
    counts: dict[str, list[dict[str, int]]] = {v.name: [] for v in variants}
    for round_no in range(runs + 1):
        order = variants[:]
        random.shuffle(order)
        for variant in order:
            server.clear()
            sample = run_once(variant.argv + DATE_TARGET, variant.env)
            if sample.code != 0:
                msg = f"{variant.name} ({size}) exited {sample.code}: {sample.stderr[-600:]!r}"
                raise RuntimeError(msg)
            ops = server.operations()
            if round_no:
                variant.samples.append(sample)
                counts[variant.name].append(ops)
    return counts


def scaling_row(variant: Variant, per_run: list[dict[str, int]], size: int) -> dict[str, Any]:
    """Return one row of section 3: times, CPU and calls of *variant* for *size* secrets."""
    mix = report.mix_for(size)
    row = summary(variant)
    return {
        "variant": variant.name,
        "n": size,
        "mix": mix,
        "exec": row["exec"],
        "exit": row["exit"],
        "rss": row["rss"],
        "cpu": row["cpu"],
        "calls": max(sum(c.values()) for c in per_run),
        "calls_min": report.minimum_calls(mix),
        "operations": per_run[-1],
    }


def section_replay(
    home: Path, moto_url: str, refs: list[str], runs: int, have_binary: bool
) -> dict[str, Any]:
    """3a. 1-100 secrets against bench/replay.py: the client's own scaling, 20 ms per call."""
    replay = ReplayServer(home, moto_url, LATENCY).start()
    try:
        data = section_scaling(home, replay, refs, runs, have_binary, REPLAY_SIZES)
        data["recorded"] = replay.recorded()
        data["priority"] = replay.priority()
    finally:
        replay.stop()
    return data


class RelayedReplay:
    """bench/replay.py behind a TLS relay: section 3e's URL is the relay's, calls the replay's."""

    def __init__(self, replay: ReplayServer, relay_url: str) -> None:
        """Send to *relay_url*; count what *replay* answers."""
        self.replay = replay
        self.url = relay_url

    def clear(self) -> None:
        """Forget the calls counted so far."""
        self.replay.clear()

    def operations(self) -> dict[str, int]:
        """Return the calls since the last clear, by operation."""
        return self.replay.operations()


def trust_bundle(directory: Path) -> tuple[Path, TlsFiles, int]:
    """Return (bundle, the test CA's files, certificates): botocore's default bundle + the CA.

    What botocore trusts when nothing is configured (certifi's bundle) is what a start
    against AWS loads; the test CA is added so that the relay's certificate verifies.
    """
    from botocore.httpsession import get_cert_path  # noqa: PLC0415 - only this section

    files = make_ca(directory)
    default = Path(get_cert_path(True)).read_bytes()
    bundle = directory / "bundle.pem"
    bundle.write_bytes(default + b"\n" + files.ca.read_bytes())
    return bundle, files, bundle.read_bytes().count(b"BEGIN CERTIFICATE")


def section_tls(home: Path, moto_url: str, refs: list[str], runs: int) -> dict[str, Any]:
    """3e. 1 and 100 secrets over TLS (a relay on 127.0.0.1) trusting botocore's default bundle."""
    if not BINARY.exists():
        return {}
    bundle, files, certificates = trust_bundle(home / "tls")
    replay = ReplayServer(home, moto_url, LATENCY).start()
    relay = TlsRelay(replay.url, files).start()
    try:
        server = RelayedReplay(replay, relay.url)
        rows = []
        for size in TLS_SIZES:
            env = {**aws_env(home, relay.url), "AWS_CA_BUNDLE": str(bundle)}
            env.update({f"S{i:04d}": ref for i, ref in enumerate(refs[:size])})
            variants = [
                Variant(report.BINARY, [str(BINARY)], dict(env)),
                Variant(report.STOCK_HTTP, [str(BINARY)], {**env, "INJECTOR_STOCK_HTTP": "1"}),
            ]
            counts = scaling_rounds(server, variants, runs, size)
            rows += [scaling_row(variant, counts[variant.name], size) for variant in variants]
            log(
                f"tls {size}: "
                + ", ".join(
                    f"{r['variant']} {r['exec']['median']:.0f} ms" for r in rows if r["n"] == size
                )
            )
    finally:
        relay.stop()
        replay.stop()
    return {"rows": rows, "certificates": certificates, "latency_ms": LATENCY * 1000}


def floor_variant(home: Path, server: Counted, refs: list[str]) -> Variant:
    """Return curl making the calls injector makes for *refs* (bench/floor.py), checked once.

    ``sh -c 'curl --config FILE && exec TARGET'``: timed like the others, to the exec.
    """
    calls = floor.calls_for(refs)
    config = home / f"floor-{len(refs)}.curl"
    config.write_text(floor.curl_config(server.url, calls, DEFAULT_CONCURRENCY, "/dev/null"))
    check_floor(home, server, calls, refs)
    argv = ["/bin/sh", "-c", 'curl --config "$0" && exec "$@"', str(config)]
    return Variant(report.FLOOR, argv, base_env(home))


def check_floor(home: Path, server: Counted, calls: list[floor.Call], refs: list[str]) -> None:
    """Run the floor's calls once into files; insist every secret's value came back."""
    with tempfile.TemporaryDirectory(dir=home) as out:
        check = Path(out) / "check.curl"
        check.write_text(floor.curl_config(server.url, calls, DEFAULT_CONCURRENCY, out))
        subprocess.run(["curl", "--config", str(check)], check=True, timeout=120)
        answers = [p.read_bytes() for p in sorted(Path(out).glob("0*"))]
    values = set()
    for call, answer in zip(calls, answers, strict=True):
        if call.service == "s3":
            values.add(answer.decode())
        else:
            document = json.loads(answer)
            items = document.get("Parameters") or document.get("SecretValues") or []
            values.update(item.get("Value") or item.get("SecretString") for item in items)
    missing = [ref for ref in refs if _seeded_value(ref) not in values]
    if missing:
        msg = f"the floor's calls did not return {len(missing)} values, e.g. {missing[0]}"
        raise RuntimeError(msg)


def _seeded_value(ref: str) -> str:
    """Return the value seed_scaling stored for *ref* (``s3-7``, ``ssm-8``, ``sm-9``)."""
    number = int(ref[-4:])
    prefix = {"ref+s3:": "s3", "ref+awsssm:": "ssm", "ref+awssecrets:": "sm"}
    kind = next(short for start, short in prefix.items() if ref.startswith(start))
    return f"{kind}-{number}"


def section_concurrency(
    home: Path,
    proxy: Proxy,
    refs: list[str],
    runs: int,
    have_binary: bool,
) -> list[dict[str, Any]]:
    """Diagnosis: 100 and 1,000 secrets at INJECTOR_MAX_CONCURRENCY 4, 16 and 64."""
    if not have_binary:
        return []
    proxy.clear_rules()
    proxy.latency(LATENCY)
    rows = []
    for size in (100, 1000):
        variants = []
        for conc in (4, 16, 64):
            env = aws_env(home, proxy.url)
            env.update({f"S{i:04d}": ref for i, ref in enumerate(refs[:size])})
            env["INJECTOR_MAX_CONCURRENCY"] = str(conc)
            variants.append(Variant(f"{conc}", [str(BINARY)], env))
        measure(variants, runs if size < 1000 else max(1, runs // 2))
        for variant in variants:
            proxy.clear()
            run_once([*variant.argv, "/bin/true"], variant.env)
            rows.append(
                {
                    "variant": "dist/injector",
                    "n": size,
                    "concurrency": int(variant.name),
                    "exec": summary(variant)["exec"],
                    "calls": len(proxy.operations()),
                }
            )
    proxy.clear_rules()
    return rows


def section_timeline(
    home: Path,
    proxy: Proxy,
    refs: list[str],
    runs: int,
) -> list[dict[str, Any]]:
    """Why the time grows with the count: bench/timeline.py, median of *runs* per size."""
    proxy.clear_rules()
    proxy.latency(LATENCY)
    rows = []
    for size in SIZES:
        env = aws_env(home, proxy.url)
        env.update({f"S{i:04d}": ref for i, ref in enumerate(refs[:size])})
        env["INJECTOR_LOG_LEVEL"] = "error"
        results = []
        for _ in range(runs):
            done = subprocess.run(
                [str(VENV_PY), str(ROOT / "bench" / "timeline.py")],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(done.stdout)
            if result["code"] != 0:
                msg = f"bench/timeline.py ({size} secrets) exited {result['code']}"
                raise RuntimeError(msg)
            results.append(result)
        rows.append(timeline_row(size, results))
    proxy.clear_rules()
    return rows


def timeline_row(size: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the medians of the timeline figures of one size."""

    def med(pick: Callable[[dict[str, Any]], float | None]) -> float | None:
        values = [v for v in (pick(r) for r in results) if v is not None]
        return statistics.median(values) if values else None

    def create(service: str, key: str) -> Callable[[dict[str, Any]], float | None]:
        def pick(result: dict[str, Any]) -> float | None:
            found = [c for c in result["creates"] if c["service"] == service]
            if not found:
                return None
            value: float = found[0]["end"] - found[0]["start"] if key == "ms" else found[0][key]
            return value - result["imports_ms"] if key != "ms" else value

        return pick

    row: dict[str, Any] = {
        "n": size,
        "runs": len(results),
        "resolve_ms": med(lambda r: r["check_ms"]),
        "resolve_cpu": med(lambda r: r.get("check_cpu_ms")),
        "imports_ms": med(lambda r: r["imports_ms"]),
    }
    for kind in ("create", "call", "http"):
        for key in ("sum", "mean", "max", "n"):
            row[f"{kind}_{key}"] = med(lambda r, k=kind, f=key: r["kinds"].get(k, {}).get(f))
    for kind in ("get", "call", "http", "sign", "parse", "useragent"):
        row[f"{kind}_cpu"] = med(lambda r, k=kind: r["kinds"].get(k, {}).get("cpu"))
    row["http_last_end"] = med(lambda r: r["kinds"]["http"]["last_end"] - r["imports_ms"])
    for service in ("s3", "ssm", "secretsmanager"):
        row[f"{service}_create_ms"] = med(create(service, "ms"))
        row[f"{service}_create_start"] = med(create(service, "start"))
    return row


def scaling_analysis(timeline: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[str]:
    """Say in words what the timeline shows for 1 against 100 secrets."""
    by_n = {row["n"]: row for row in timeline}
    one, hundred = by_n.get(1), by_n.get(100)
    if not one or not hundred:
        return []
    verdict = report.scaling_verdict(rows)
    mine = {row["n"]: row for row in rows if row["variant"] == report.BINARY}
    lines = [
        (
            f"Instrumented `python -m injector check` (bench/timeline.py), medians of "
            f"{hundred['runs']} runs: resolving 1 secret takes {one['resolve_ms']:.0f} ms (S3 "
            f"client {one['s3_create_ms']:.0f}, the one call {one['call_sum']:.0f}, of which the "
            f"HTTP round trip {one['http_sum']:.0f}: the first request of a process also pays "
            f"the connection and botocore's first-call work); 100 secrets take "
            f"{hundred['resolve_ms']:.0f} ms: SSM client {hundred['ssm_create_ms'] or 0:.0f}, "
            f"Secrets Manager client {hundred['secretsmanager_create_ms'] or 0:.0f}, 40 calls "
            f"with a mean round trip of {hundred['http_mean']:.0f} ms (max "
            f"{hundred['http_max']:.0f}) for 20 ms of injected latency."
        ),
    ]
    lines += cpu_analysis(one, hundred)
    if 1 in mine and 100 in mine and mine[1].get("cpu"):
        cpu1, cpu100 = mine[1]["cpu"]["median"], mine[100]["cpu"]["median"]
        wall1, wall100 = mine[1]["exec"]["median"], mine[100]["exec"]["median"]
        lines.append(
            f"`dist/injector` end to end: CPU (user+sys) {cpu1:.0f} -> {cpu100:.0f} ms, wall "
            f"{wall1:.0f} -> {wall100:.0f} ms. The extra CPU is two more botocore clients "
            "plus building, signing and parsing 40 requests, all under the GIL; the rest "
            "is waiting on moto and the proxy, single Python processes sharing the same 2 "
            "cores (AWS would not add their CPU)."
        )
    lines += floor_analysis(rows, verdict["factor"])
    return lines


def cpu_analysis(one: dict[str, Any], hundred: dict[str, Any]) -> list[str]:
    """Say where the resolve's extra CPU goes from 1 to 100 secrets (timeline CPU figures)."""
    if not (one.get("resolve_cpu") and hundred.get("resolve_cpu") and hundred.get("call_cpu")):
        return []
    calls, count = hundred["call_cpu"], hundred.get("call_n") or 1
    parts = {p: hundred.get(f"{p}_cpu") or 0 for p in ("http", "parse", "sign", "useragent")}
    clients = hundred.get("get_cpu") or 0
    outside = hundred["resolve_cpu"] - calls - clients
    return [
        (
            f"CPU while resolving: {one['resolve_cpu']:.0f} ms for 1 secret, "
            f"{hundred['resolve_cpu']:.0f} ms for 100. Of the 100's, the {count:.0f} calls "
            f"take {calls:.0f} ms ({calls / count:.2f} ms a call: HTTP send "
            f"{parts['http']:.0f}, parsing {parts['parse']:.0f}, SigV4 {parts['sign']:.0f}, "
            f"user-agent strings {parts['useragent']:.0f}, the rest of botocore's per-call "
            f"work {calls - sum(parts.values()):.0f}), the session and clients {clients:.0f} and "
            f"everything outside them (injector's code, threads, reading bodies) "
            f"{outside:.0f}: the growth is botocore's per-call work, which the issue's rules "
            "keep as it is."
        )
    ]


def floor_analysis(rows: list[dict[str, Any]], factor: float) -> list[str]:
    """Say what is left of dist/injector's 100-secret time once the server floor is taken out.

    The floor's own figures are said once, under the table (report._floor_lines).
    """
    mine = {r["n"]: r["exec"]["median"] for r in rows if r["variant"] == report.BINARY}
    ends = {r["n"]: r["exec"]["median"] for r in rows if r["variant"] == report.FLOOR}
    if not ({1, 100} <= mine.keys() and {1, 100} <= ends.keys()):
        return []
    share = report.floor_share(rows)
    why = (
        "the server floor under the table already adds more than 1.3x leaves: moto "
        "(Werkzeug, a connection and a thread per request) and the latency proxy are Python "
        "processes on the same 2 cores, so no client meets 1.3x against them here (section "
        "3a takes them out)"
        if share["added_ms"] > share["budget_ms"]
        else "the server floor under the table leaves room within 1.3x"
    )
    return [
        (
            f"100 secrets take {factor:.2f}x of one; {why}. dist/injector's "
            f"own time over the floor: {mine[1] - ends[1]:.0f} ms for 1 secret, "
            f"{mine[100] - ends[100]:.0f} ms for 100 (two more clients, 39 more requests "
            "signed and parsed under the GIL)."
        )
    ]


def extracted_bytes(binary: Path) -> int | None:
    """Return the bytes both launchers write to TMPDIR at one start (no references)."""
    listing = 'find "$TMPDIR" -type f -printf "%s\\n"'
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        done = subprocess.run(
            [str(binary), "/bin/sh", "-c", listing],
            capture_output=True,
            text=True,
            check=False,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "TMPDIR": tmp,
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        )
    if done.returncode != 0:
        return None
    return sum(int(size) for size in done.stdout.split())


def section_size(
    startup: list[dict[str, Any]], one: list[dict[str, Any]], build: bool
) -> dict[str, Any]:
    """4. Binary size, peak RSS (from sections 1 and 2), build time."""
    result: dict[str, Any] = {}
    if BINARY.exists():
        result["binary_bytes"] = BINARY.stat().st_size
        sha = subprocess.run(
            ["sha256sum", str(BINARY)], capture_output=True, text=True, check=False
        )
        result["sha256"] = sha.stdout.split()[0] if sha.stdout else "?"
        ver = subprocess.run(
            [str(BINARY), "--version"], capture_output=True, text=True, check=False
        )
        result["version"] = (ver.stdout.strip().splitlines() or ["?"])[0]
        result["rss_none"] = next((r["rss"] for r in startup if r["name"] == "dist/injector"), None)
        result["rss_s3"] = next((r["rss"] for r in one if r["name"] == "dist/injector"), None)
    written = {
        name: extracted_bytes(path)
        for name, path in [(report.BINARY, BINARY)] + [(report.BASELINE, b) for b in BASELINE]
        if path.exists()
    }
    result["extracted_bytes"] = {name: n for name, n in written.items() if n is not None}
    if build:
        log("timing make binary-local")
        start = time.perf_counter()
        subprocess.run(
            ["make", "-C", str(ROOT), "binary-local"], check=True, stdout=subprocess.DEVNULL
        )
        seconds = time.perf_counter() - start
        BUILD_TIME.parent.mkdir(parents=True, exist_ok=True)
        BUILD_TIME.write_text(
            json.dumps(
                {"seconds": seconds, "date": _now(), "commit": _commit(), "load": os.getloadavg()}
            )
        )
    result["build"] = build_figure()
    return result


ARM64_BINARY = ROOT / "dist" / "injector-linux-arm64"


def section_arm64(home: Path, moto_url: str, runs: int) -> dict[str, Any]:
    """4b. The arm64 binary under qemu-user-static (emulated: no claim about real hardware)."""
    log("4b. arm64, emulated")
    if not ARM64_BINARY.exists():
        return {"note": "skipped: dist/injector-linux-arm64 missing (make dist)"}
    try:
        ver = subprocess.run(
            [str(ARM64_BINARY), "--version"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    except OSError as exc:
        return {
            "note": f"skipped: the arm64 binary does not run here ({exc.strerror}; "
            "`make bench` registers qemu-aarch64 when it is root)"
        }
    result: dict[str, Any] = {
        "binary_bytes": ARM64_BINARY.stat().st_size,
        "version": (ver.stdout.strip().splitlines() or ["?"])[0],
    }
    rows = []
    for label, env in (
        ("no references", base_env(home)),
        ("one S3 secret", {**aws_env(home, moto_url), "V": "ref+s3://bench/one"}),
    ):
        variants = [Variant("dist/injector-linux-arm64 (emulated)", [str(ARM64_BINARY)], env)]
        if BINARY.exists():
            variants.append(Variant("dist/injector (native)", [str(BINARY)], dict(env)))
        measure(variants, runs)
        rows += [{"case": label, **summary(v)} for v in variants]
    result["rows"] = rows
    result["runs"] = runs
    return result


def build_figure() -> str:
    """Return the recorded build time: ours (--build), else the last `make dist` log's."""
    if BUILD_TIME.exists():
        rec = json.loads(BUILD_TIME.read_text())
        return (
            f"`make binary-local`: {rec['seconds']:.0f} s (recorded {rec['date']}, commit "
            f"{rec['commit'][:12]}, load {rec['load'][0]:.2f})"
        )
    log_file = ROOT / "build" / "dist.log"
    found = (
        re.search(r"^real\s+(\d+)m([\d.]+)s", log_file.read_text(errors="replace"), re.MULTILINE)
        if log_file.exists()
        else None
    )
    if found:
        seconds = int(found.group(1)) * 60 + float(found.group(2))
        when = datetime.fromtimestamp(log_file.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
        return (
            f"`make dist` (container build; build image cached): {seconds:.0f} s, "
            f"from build/dist.log ({when} UTC); `bench/bench.py --build` times "
            "`make binary-local` here"
        )
    return "not measured (run `bench/bench.py --build`)"


def section_container(home: Path, moto_url: str, runs: int) -> tuple[list[dict[str, Any]], str]:
    """5. Cold ``docker run --rm`` of busybox: injector fetching one secret vs /bin/true."""
    if shutil.which("docker") is None or not BINARY.exists():
        return [], "skipped: docker or dist/injector missing"
    image = subprocess.run(
        ["docker", "image", "inspect", BUSYBOX], capture_output=True, check=False
    )
    if image.returncode != 0:
        log(f"{BUSYBOX} missing: tests/e2e/images/build-images.sh busybox")
        subprocess.run([str(ROOT / "tests/e2e/images/build-images.sh"), "busybox"], check=True)
    env = base_env(home)
    aws = aws_env(home, moto_url)
    flags = [
        f"--env={k}={aws[k]}"
        for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_EC2_METADATA_DISABLED", *FAKE_CREDENTIALS)
    ]
    run = ["docker", "run", "--pull", "never", "--rm", "--network", "host"]
    with_injector = Variant(
        "docker run ... --entrypoint /sbin/injector busybox /bin/true (one S3 secret)",
        [
            *run,
            "-v",
            f"{BINARY}:/sbin/injector:ro",
            "--entrypoint",
            "/sbin/injector",
            *flags,
            "--env=V=ref+s3://bench/one",
            BUSYBOX,
        ],
        env,
    )
    plain = Variant(
        "docker run ... --entrypoint /bin/true busybox",
        [*run, "--entrypoint", "/bin/true", BUSYBOX],
        env,
    )
    check = run_once([*with_injector.argv, "/bin/sh", "-c", 'printf "%s" "$V"'], env)
    if check.code != 0 or check.stdout.decode() != SECRET:
        msg = f"container check failed: {check.code} {check.stdout!r} {check.stderr[-400:]!r}"
        raise RuntimeError(msg)
    for round_no in range(runs + 1):
        for variant in random.sample([with_injector, plain], 2):
            sample = run_once(
                variant.argv if variant is plain else [*variant.argv, "/bin/true"], env
            )
            if sample.code != 0:
                msg = f"{variant.name} exited {sample.code}: {sample.stderr[-400:]!r}"
                raise RuntimeError(msg)
            if round_no:
                variant.samples.append(sample)
    note = (
        f"`docker run --rm --network host` of `{BUSYBOX}` (1.99 MB, no libc), wall time "
        "of the docker client; the injector row mounts `dist/injector` read-only at "
        "/sbin/injector and fetches `s3://bench/one` from moto on the host's 127.0.0.1."
    )
    short = {plain.name: "/bin/true", with_injector.name: "injector + one S3 secret"}
    return [
        {"name": v.name, "short": short[v.name], "exit": summary(v)["exit"]}
        for v in (plain, with_injector)
    ], note


# --------------------------------------------------------------------------- profile

IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


THIRD_PARTY = (
    "botocore",
    "urllib3",
    "dateutil",
    "jmespath",
    "injector",
    "structlog",
    "certifi",
    "six",
)


def parse_importtime(
    text: str, top: int = 10
) -> tuple[list[dict[str, Any]], float, list[dict[str, Any]]]:
    """Return the *top* cumulative imports, the total of self times, and self time by package.

    A module's cumulative time includes whatever it is the first to import (botocore.docs
    includes botocore.compat and urllib3, which the client needs anyway), so the fairer
    answer to "what costs the most" is self time summed per package, a standard-library
    module counting for the nearest package above it that imported it first.
    """
    entries = []
    for match in IMPORT_LINE.finditer(text):
        self_us, cum_us, indent, name = match.groups()
        entries.append(
            {
                "name": name,
                "self_ms": int(self_us) / 1000,
                "cumulative_ms": int(cum_us) / 1000,
                "depth": len(indent) // 2,
            }
        )
    total = sum(e["self_ms"] for e in entries)
    packages: dict[str, float] = {}
    stack: list[tuple[int, str]] = []
    for entry in reversed(entries):  # importtime prints children first: reversed = pre-order
        while stack and stack[-1][0] >= entry["depth"]:
            stack.pop()
        root = entry["name"].split(".")[0]
        if root in THIRD_PARTY:
            group = root
        elif stack:
            group = stack[-1][1]
        else:
            group = "interpreter start-up and stdlib imported directly"
        stack.append((entry["depth"], group))
        packages[group] = packages.get(group, 0.0) + entry["self_ms"]
    by_package = [
        {"name": k, "self_ms": v} for k, v in sorted(packages.items(), key=lambda kv: -kv[1])
    ]
    entries.sort(key=lambda e: -e["cumulative_ms"])
    return entries[:top], total, by_package


def profile_imports(
    home: Path,
    moto_url: str,
) -> tuple[list[dict[str, Any]], float, list[dict[str, Any]]]:
    """``python -X importtime -m injector /bin/true`` with one S3 reference (2nd of 2 runs)."""
    env = aws_env(home, moto_url)
    env["V"] = "ref+s3://bench/one"
    text = ""
    for _ in range(2):
        done = run_once([str(VENV_PY), "-X", "importtime", "-m", "injector", "/bin/true"], env)
        text = done.stderr.decode("utf-8", "replace")
    return parse_importtime(text)


PHASE_STATICX = "staticx: extract to /tmp, start the program"
PHASE_PYI = "PyInstaller onefile parent: extract to /tmp, start Python (onefile builds)"
PHASE_CLEANUP = "after exec: the bootloader cleans up and exits"


def strace_phases(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Split one run of the binary into phases from strace timestamps (ms)."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as trace:
        subprocess.run(
            [
                "strace",
                "-f",
                "--seccomp-bpf",
                "-ttt",
                "-o",
                trace.name,
                "-e",
                "trace=execve,fork,vfork,clone,clone3,exit_group,prlimit64,connect",
                *argv,
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        lines = trace.read().splitlines()
    events: list[tuple[int, float, str]] = []
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit():
            events.append((int(parts[0]), float(parts[1]), parts[2]))
    root = events[0][0]
    t0 = events[0][1]

    def first(pred: Callable[[int, str], bool], after: float = 0.0) -> float | None:
        return next((t for pid, t, call in events if t >= after and pred(pid, call)), None)

    fork = first(lambda pid, c: pid == root and c.startswith(("fork", "clone", "vfork")))
    program = first(lambda pid, c: pid != root and c.startswith("execve("), fork or 0)
    program_pid = next(pid for pid, t, _ in events if t == program)
    target = first(lambda _pid, c: c.startswith(f'execve("{argv[-1]}"'))
    # A onefile program (INJECTOR_SPEC_ONEFILE=1 builds) execs Python in a child of its
    # own; the onedir one runs Python in the program's process, which execs the target.
    child = first(
        lambda pid, c: (
            pid not in (root, program_pid)
            and c.startswith("execve(")
            and not c.startswith(f'execve("{argv[-1]}"')
        )
    )
    clone = first(lambda pid, c: pid == program_pid and c.startswith("clone"), program or 0)
    python = child if child is not None else program
    core = first(lambda _pid, c: "RLIMIT_CORE" in c, python or 0)
    connect = first(lambda _pid, c: c.startswith("connect("), python or 0)
    end = events[-1][1]
    marks = [
        (PHASE_STATICX, t0, fork),
        (PHASE_PYI, program if child is not None else None, clone),
        ("Python start, injector imports, plan (to hardening)", python, core or target),
        ("botocore imports and client creation (to first connect)", core, connect),
        ("requests and exec (first connect to target exec)", connect, target),
        (
            "Python start, imports, plan, exec (no references)",
            python,
            target if core is None else None,
        ),
        (PHASE_CLEANUP, target, end),
        ("total to exec", t0, target),
    ]
    return {name: (b - a) * 1000 for name, a, b in marks if a is not None and b is not None}


def profile_binary(home: Path, moto_url: str, runs: int) -> tuple[list[dict[str, Any]], int]:
    """Return the binary's phases, median of *runs* strace'd runs, without and with a secret."""
    if shutil.which("strace") is None or not BINARY.exists():
        return [], 0
    plain = base_env(home)
    secret = aws_env(home, moto_url)
    secret["V"] = "ref+s3://bench/one"
    collected: dict[str, dict[str, list[float]]] = {"none": {}, "s3": {}}
    for _ in range(runs):
        for key, env in (("none", plain), ("s3", secret)):
            for name, value in strace_phases([str(BINARY), "/bin/true"], env).items():
                collected[key].setdefault(name, []).append(value)
    names = list(dict.fromkeys([*collected["s3"], *collected["none"]]))
    rows = []
    for name in names:
        row: dict[str, Any] = {"name": name}
        for key in ("none", "s3"):
            values = collected[key].get(name)
            row[key] = statistics.median(values) if values else None
        rows.append(row)
    return rows, runs


def profile_findings(data: dict[str, Any]) -> list[str]:
    """Say in words what dominates start-up, from the phases and the import profile."""
    profile = data.get("profile", {})
    phases = {p["name"]: p for p in profile.get("phases", [])}
    lines = []
    total = phases.get("total to exec", {})
    staticx = phases.get(PHASE_STATICX, {})
    pyi = phases.get(PHASE_PYI, {}).get("none") or 0.0
    python = phases.get("Python start, injector imports, plan (to hardening)", {})
    if total.get("none") and staticx.get("none") is not None:
        launch = staticx["none"] + pyi
        split = f"; PyInstaller's onefile parent {pyi:.0f}" if pyi else ""
        lines.append(
            f"**No references:** of {total['none']:.0f} ms to exec, the staticx bootloader "
            f"takes {launch:.0f} ms ({100 * launch / total['none']:.0f}%{split}), extracting "
            f"its archive (PyInstaller's bootloader and its onedir tree) to /tmp before any "
            f"Python runs; Python's start, injector's imports and the plan take the rest. "
            f"After the exec the bootloader spends another "
            f"{phases.get(PHASE_CLEANUP, {}).get('none') or 0:.0f}"
            f" ms deleting what it extracted (the target is already running then, but a "
            f"short-lived container's exit waits for it)."
        )
    if total.get("s3") and python.get("s3") is not None:
        label = "botocore imports and client creation (to first connect)"
        create = phases.get(label, {}).get("s3") or 0
        request = phases.get("requests and exec (first connect to target exec)", {})
        lines.append(
            f"**One S3 secret:** {total['s3']:.0f} ms to exec; the interpreter, injector's "
            f"imports and the plan take {python['s3']:.0f} ms, importing botocore and "
            f"creating the client {create:.0f} ms, the request and the exec "
            f"{request.get('s3') or 0:.0f} ms."
        )
    packages = profile.get("import_packages", [])
    if packages:
        top = ", ".join(f"{p['name']} {p['self_ms']:.0f}" for p in packages[:5])
        lines.append(
            f"**Unfrozen imports with one S3 secret** ({profile.get('import_total_ms', 0):.0f} "
            f"ms in all), self time summed by package, stdlib modules counted for the package "
            f"that imported them first: {top} ms. The cumulative list overstates "
            "`botocore.docs`: it is merely the first to import `botocore.compat`, which pulls "
            "in urllib3 and http.client/email/ssl that any HTTP client needs."
        )
    lines.append(
        "The frozen interpreter ignores `PYTHON*` variables (PYTHONPROFILEIMPORTTIME does "
        "nothing there); an import profile of the frozen app needs a build with "
        "`INJECTOR_SPEC_IMPORTTIME=1` (packaging/README.md), so the frozen phases above come "
        "from strace timestamps instead."
    )
    return lines


# --------------------------------------------------------------------------- machine


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _commit() -> str:
    head = (
        subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "unknown"
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return head + (" (+ uncommitted changes)" if dirty else "")


def machine() -> dict[str, Any]:
    """Describe the machine."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    tmp = fs_type(Path(os.environ.get("BENCH_TMPDIR", "/tmp")))

    def version(argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return ((done.stdout or done.stderr).strip().splitlines() or ["?"])[0]

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "/tmp file system": tmp,
        "python (.venv)": version([str(VENV_PY), "--version"]),
        "tini": version(["/usr/bin/tini", "--version"]),
        "docker": version(["docker", "--version"]) if shutil.which("docker") else "-",
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Measure everything and write the reports."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few repetitions")
    parser.add_argument("--runs", type=int, help="repetitions per variant (default 12; quick 3)")
    parser.add_argument("--build", action="store_true", help="time `make binary-local` first")
    parser.add_argument("--no-docker", action="store_true", help="skip the container section")
    parser.add_argument("--render", type=Path, help="only re-render from a results.json")
    parser.add_argument("--out", type=Path, help="results.md path")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    parser.add_argument(
        "--baseline",
        type=Path,
        action="append",
        default=[],
        help="an older build of the binary to measure beside dist/injector",
    )
    parser.add_argument(
        "--step",
        type=step_arg,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a build with one more change than the previous --step (in order; section 2c)",
    )
    args = parser.parse_args(argv)
    BASELINE[:] = [path.resolve() for path in args.baseline]
    if args.step and not args.render:
        try:
            args.step = steps_in_order(args.step, BINARY.exists())
        except ValueError as exc:
            parser.error(str(exc))
    out_dir = OUT / "quick" if args.quick else OUT
    out_md = args.out or (out_dir / "results.md" if args.quick else ROOT / "bench" / "results.md")
    update_readme = not (args.quick or args.no_readme)
    if args.render:
        data = json.loads(args.render.read_text())
    else:
        data = collect(args)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "results.json").write_text(json.dumps(data, indent=1))
    data.setdefault("profile", {})["findings"] = profile_findings(data)
    if "size" in data and "not measured" in data["size"].get("build", "not measured"):
        data["size"]["build"] = build_figure()
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_md.write_text(report.render_results(data))
    log(f"wrote {out_md}")
    if update_readme:
        readme = ROOT / "README.md"
        readme.write_text(report.splice(readme.read_text(), report.render_readme(data)))
        log("updated README.md's performance block")
    for check in report.budget_checks(data):
        log(
            f"budget: {check['what']}: {check['value']:.1f} {check['unit']} "
            f"(limit {check['limit']:g}) {'ok' if check['ok'] else 'OVER'}"
        )
    verdict = report.scaling_verdict(data["scaling"]["rows"])
    log(
        f"scaling: 100 secrets = {verdict['factor']:.2f}x of 1; calls minimal: "
        f"{verdict['calls_ok']}"
    )
    return 0


def collect(args: argparse.Namespace) -> dict[str, Any]:  # noqa: PLR0915 - the sections in order
    """Run every section and return the numbers."""
    runs = args.runs or (3 if args.quick else 12)
    have_binary = BINARY.exists()
    data: dict[str, Any] = {
        "date": _now(),
        "commit": _commit(),
        "machine": machine(),
        "runs": runs,
        "quick": args.quick,
        "load": {},
        "notes": [],
    }
    if not have_binary:
        data["notes"].append("dist/injector was missing: `make binary-local` first.")
    for path in BASELINE:
        ver = subprocess.run([str(path), "version"], capture_output=True, text=True, check=False)
        commit = next(
            (
                line.split(":", 1)[1].strip()
                for line in ver.stdout.splitlines()
                if line.startswith("commit:")
            ),
            "?",
        )
        data["baseline"] = {"path": str(path), "commit": commit}
        origin = (
            "the same commit built as PyInstaller's onefile program "
            "(`INJECTOR_SPEC_ONEFILE=1 packaging/build.sh`, the launcher before issue 15)"
            if commit == data["commit"]
            else f"built from commit `{commit[:12]}`"
        )
        data["notes"].append(
            f"`{report.BASELINE}` is `{path.name}`, {origin}, measured in the same rounds."
        )
    data["load"]["start"] = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        home = Path(tmp)
        log("1. start to exec, no references")
        data["startup"] = section_startup(home, runs, have_binary)
        moto = MotoServer(home).start()
        proxy = Proxy(moto.url).start()
        try:
            seeder = Seeder(moto.url)
            seeder.bucket("bench")
            seeder.client("s3").put_object(Bucket="bench", Key="one", Body=SECRET.encode())
            data["load"]["one secret"] = os.getloadavg()
            log("2. one S3 secret")
            data["one_secret"], data["one_secret_note"] = section_one_secret(
                home, moto.url, runs, have_binary
            )
            if args.step:
                log("2c. build changes, one at a time")
                data["steps"] = section_steps(home, moto.url, runs, args.step)
            log("2b. one secret per service")
            data["services"] = section_services(
                home, moto.url, seed_services(seeder), runs, have_binary
            )
            sizes = SIZES
            log(f"3. scaling: seeding {max(sizes)} secrets")
            refs = seed_scaling(seeder, max(sizes))
            data["load"]["scaling"] = os.getloadavg()
            scale_runs = max(3, runs // 3) if args.quick else max(10, runs)
            proxy.clear_rules()
            proxy.latency(LATENCY)
            data["scaling"] = section_scaling(
                home, ProxyCalls(proxy), refs, scale_runs, have_binary, sizes
            )
            proxy.clear_rules()
            log("3a. scaling against replayed answers")
            data["replay"] = section_replay(home, moto.url, refs, scale_runs, have_binary)
            log("3e. over TLS, trusting botocore's default bundle")
            data["tls"] = section_tls(home, moto.url, refs, scale_runs)
            log("3b. concurrency")
            data["scaling"]["concurrency_rows"] = section_concurrency(
                home, proxy, refs, 2 if args.quick else 6, have_binary
            )
            log("3c. timeline")
            data["scaling"]["timeline"] = section_timeline(
                home, proxy, refs, 1 if args.quick else 3
            )
            data["scaling"]["analysis"] = scaling_analysis(
                data["scaling"]["timeline"], data["scaling"]["rows"]
            )
            log("3d. 200 SSM parameters: one path vs 200 references")
            path_load.seed(seeder)
            data["path_load"] = path_load.section(
                proxy,
                injector_variants(aws_env(home, proxy.url), have_binary),
                max(3, runs // 3) if args.quick else max(6, runs // 2),
                helpers={
                    "run_once": run_once,
                    "summary": summary,
                    "target": DATE_TARGET,
                    "latency": LATENCY,
                },
            )
            data["load"]["size"] = os.getloadavg()
            data["size"], data["arm64"] = (
                section_size(data["startup"], data["one_secret"], args.build),
                section_arm64(home, moto.url, max(3, runs // 3)),
            )
            if not args.no_docker:
                data["load"]["container"] = os.getloadavg()
                log("5. containers")
                data["container"], data["container_note"] = section_container(
                    home, moto.url, max(3, runs // 2) if args.quick else 10
                )
            log("items of issue 15")
            data["items"] = section_items(3 if args.quick else 15, count=not args.quick)
            log("profile")
            data["load"]["profile"] = os.getloadavg()
            imports, total, by_package = profile_imports(home, moto.url)
            phases, phase_runs = profile_binary(home, moto.url, 2 if args.quick else 5)
            data["profile"] = {
                "imports": imports,
                "import_total_ms": total,
                "import_packages": by_package,
                "phases": phases,
                "phase_runs": phase_runs,
            }
        finally:
            proxy.stop()
            moto.stop()
            for shm_dir in TMPFS_DIRS:
                shutil.rmtree(shm_dir, ignore_errors=True)
    data["load"]["end"] = os.getloadavg()
    busiest = max(load[0] for load in data["load"].values())
    if busiest >= 1.0:
        data["notes"].append(
            f"The 1-minute load average reached {busiest:.1f} on 2 cores during this run "
            "(other jobs were running): absolute figures are inflated, roughly by the "
            "share of CPU the other jobs took; ratios within a table, whose variants were "
            "interleaved, are more trustworthy than the absolute values."
        )
    return data


if __name__ == "__main__":
    sys.exit(main())
