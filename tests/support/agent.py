"""The host agent as a real subprocess of a test or benchmark, plus cgroup helpers.

``AgentProcess`` writes a policy file, runs ``python -m injector agent serve`` on it (as
root, in the host's namespaces), waits for the socket, and reads its audit lines back.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONTAINER_DIR = "/run/injector"
CONTAINER_URL = f"unix://{CONTAINER_DIR}/agent.sock"
START_TIMEOUT = 30.0


def policy_text(socket: str, settings: dict[str, Any], policies: str) -> str:
    """Return a version-1 policy file: the [agent] table from *settings*, then *policies*."""
    lines = ["version = 1", "[agent]", f'socket = "{socket}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n\n" + policies


class AgentProcess:
    """One agent: its socket directory (mount it at /run/injector), config, log, process."""

    def __init__(
        self,
        env: dict[str, str],
        settings: dict[str, Any],
        policies: str,
        program: list[str] | None = None,
    ) -> None:
        """Prepare a private socket directory under /tmp (sun_path is short).

        *program* runs the agent (default: this interpreter's ``-m injector``).
        """
        self.program = program or [sys.executable, "-m", "injector"]
        self.directory = Path(tempfile.mkdtemp(prefix="injag-", dir="/tmp"))
        os.chmod(self.directory, 0o755)  # noqa: S103 - containers traverse it
        self.socket = self.directory / "agent.sock"
        self.config = self.directory.with_name(self.directory.name + ".toml")
        self.log_path = self.directory.with_name(self.directory.name + ".log")
        self.env = env
        self.settings = settings
        self.write(policies)
        self.origin = str(self.config)  # a reference (ref+s3://...) works too
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The agent's URL from the host."""
        return f"unix://{self.socket}"

    def mount(self) -> list[str]:
        """`docker run` options: the socket's directory read-only at /run/injector."""
        return ["-v", f"{self.directory}:{CONTAINER_DIR}:ro"]

    def write(self, policies: str, settings: dict[str, Any] | None = None) -> None:
        """Write the policy file (a running agent reads it again on reload)."""
        text = policy_text(str(self.socket), settings or self.settings, policies)
        self.config.write_text(text, encoding="utf-8")

    def start(self) -> AgentProcess:
        """Run the agent and wait until its socket accepts connections."""
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*self.program, "agent", "serve", "--config", self.origin],
                env=self.env,
                stdout=log,
                stderr=log,
                cwd=ROOT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                msg = f"agent did not start ({self.proc.poll()}): {self.log_tail()}"
                raise RuntimeError(msg)
            time.sleep(0.05)
        return self

    def log_text(self) -> str:
        """Everything the agent wrote."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, size: int = 3000) -> str:
        """Return the end of the agent's log."""
        return self.log_text()[-size:]

    def events(self) -> list[dict[str, Any]]:
        """Every JSON line of the agent's log."""
        out = []
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def decisions(self) -> list[dict[str, Any]]:
        """Return the audit lines (decisions and alerts), oldest first."""
        return [e for e in self.events() if e.get("event") in {"agent_decision", "agent_alert"}]

    def wait_decisions(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Wait until at least *count* audit lines exist; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.decisions()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def reload(self) -> None:
        """Send SIGHUP."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def rss_kib(self) -> int:
        """Return the agent's resident set size in KiB."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text(encoding="utf-8")
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1])

    def stop(self) -> None:
        """Stop the agent and remove its files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        with contextlib.suppress(OSError):
            self.socket.unlink()
        with contextlib.suppress(OSError):
            self.directory.rmdir()
        for path in (self.config, self.log_path):
            with contextlib.suppress(OSError):
                path.unlink()


def cgroup_mounts() -> dict[str, str]:
    """Map each cgroup hierarchy's key ('pids', 'name=systemd', '' for v2) to its mount."""
    mounts: dict[str, str] = {}
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        left, _, right = line.partition(" - ")
        fstype, _source, options = right.split()[:3]
        point = left.split()[4]
        if fstype == "cgroup2":
            mounts.setdefault("", point)
        elif fstype == "cgroup":
            keys = [
                o
                for o in options.split(",")
                if o.startswith("name=") or (o not in {"rw", "ro"} and "=" not in o)
            ]
            mounts.setdefault(",".join(sorted(keys)), point)
    return mounts


def move_to_cgroups_of(pid: int, model_pid: int, nested: str = "") -> list[Path]:
    """Write *pid* into every cgroup of *model_pid* (plus a *nested* child); return dirs made."""
    mounts = cgroup_mounts()
    made: list[Path] = []
    for line in Path(f"/proc/{model_pid}/cgroup").read_text(encoding="utf-8").splitlines():
        _, controllers, path = line.split(":", 2)
        key = ",".join(sorted(controllers.split(","))) if controllers else ""
        point = mounts.get(key)
        if point is None or path == "/":
            continue
        target = Path(point + path)
        if nested:
            for part in nested.strip("/").split("/"):
                target = target / part
                if not target.exists():
                    target.mkdir()
                    made.append(target)
        with contextlib.suppress(OSError):  # e.g. a v2 'threaded' or controller-less hierarchy
            (target / "cgroup.procs").write_text(str(pid), encoding="utf-8")
    return made


def host_pid_of(ns_pid: int, in_namespace_of: int) -> int:
    """Return the host PID of the process that is *ns_pid* in the pid namespace of a process."""
    want = os.readlink(f"/proc/{in_namespace_of}/ns/pid")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(entry / "ns" / "pid") != want:
                continue
            status = (entry / "status").read_text(encoding="utf-8")
            nspid = next(x for x in status.splitlines() if x.startswith("NSpid:")).split()
            if int(nspid[-1]) == ns_pid:
                return int(entry.name)
    raise LookupError(f"no process {ns_pid} in the namespace of {in_namespace_of}")


IMPOSTOR = """
import ctypes, os, sys, time
sys.path.insert(0, {root!r})
from tests.support.agent import move_to_cgroups_of, parent_pid
victim, wanted, deadline = {victim}, {wanted}, time.monotonic() + 40
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(f"/proc/{{victim}}/ns/pid", os.O_RDONLY)
if libc.setns(fd, 0x20000000) != 0:
    sys.exit("setns failed")
cmd_r, cmd_w = os.pipe()
rep_r, rep_w = os.pipe()
inter = os.fork()  # lives in the victim's pid namespace: its orphans go to the victim's init
if inter == 0:
    null = os.open("/dev/null", os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(null, std)
    child = 0
    while True:
        command = os.read(cmd_r, 1)
        if command == b"f":
            child = os.fork()
            if child == 0:
                time.sleep(60)
                os._exit(0)
        elif command == b"k":
            os.kill(child, 9)
            os.waitpid(child, 0)
        else:
            os._exit(0)
        os.write(rep_w, b".")
while time.monotonic() < deadline:
    if os.path.exists(f"/proc/{{wanted}}"):
        time.sleep(0.01)
        continue
    with open("/proc/sys/kernel/ns_last_pid", "w") as handle:
        handle.write(str(wanted - 1))
    os.write(cmd_w, b"f")
    os.read(rep_r, 1)
    if parent_pid(wanted) == inter:
        move_to_cgroups_of(wanted, victim)
        os.write(cmd_w, b"x")
        os.waitpid(inter, 0)
        print(wanted, flush=True)
        sys.exit(0)
    os.write(cmd_w, b"k")
    os.read(rep_r, 1)
os.write(cmd_w, b"x")
sys.exit("could not reuse the PID in time")
"""


def parent_pid(pid: int) -> int | None:
    """Return the PPid of *pid*, or None when it does not exist."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return None
    return int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])


def reuse_pid(wanted: int, victim: int) -> int:
    """Make a process with host PID *wanted* inside *victim*'s pid namespace and cgroups.

    The PID is steered with /proc/sys/kernel/ns_last_pid (written as ``wanted - 1``, then a
    fork by a helper already inside the victim's pid namespace, whose exit hands the new
    process to the victim's init) and every cgroup of the victim. Returns its PID.
    """
    code = IMPOSTOR.format(root=str(ROOT), victim=victim, wanted=wanted)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=90, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"reuse_pid failed: {done.stderr.strip()[-500:]}")
    return int(done.stdout.strip())
