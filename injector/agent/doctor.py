"""``injector agent doctor``: is this host fit to run the agent? It inspects, never probes.

Checks: root, host pid and cgroup namespaces, the engine socket, ``SO_PEERPIDFD``, the
socket path against the 108-byte ``sun_path``, and whether containers are kept away from
the instance metadata service (a DOCKER-USER rule dropping 169.254.169.254). It reads the
firewall's rules; it never sends a packet to the metadata address.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import NamedTuple

from injector import log
from injector.agent import identity
from injector.agent import policy as policies
from injector.errors import InjectorError

IMDS = "169.254.169.254"
ADVICE = (
    "containers can reach the instance metadata service, so 'no keys in the container' means "
    "nothing: add `iptables -I DOCKER-USER -d 169.254.169.254/32 -j DROP` (and persist it), "
    "or set the instance's IMDSv2 hop limit to 1 (aws ec2 modify-instance-metadata-options "
    "--http-tokens required --http-put-response-hop-limit 1)"
)


class Check(NamedTuple):
    """One finding: ok, warn or fail."""

    name: str
    status: str
    detail: str


def doctor(origin: str, *, as_json: bool) -> int:
    """Run every check, print them, exit 0 unless one failed (then 78)."""
    settings = _settings(origin)
    checks = [
        _root(),
        *_namespaces(),
        _engine(settings.engine),
        _pidfd(),
        _sun_path(settings.socket),
        firewall(_rules()),
    ]
    if as_json:
        log.write_json([c._asdict() for c in checks])
    else:
        for check in checks:
            log.write_stdout(f"{check.status:<4}  {check.name}: {check.detail}\n")
    return 78 if any(c.status == "fail" for c in checks) else 0


def _settings(origin: str) -> policies.Settings:
    from injector.agent.serve import load  # noqa: PLC0415

    try:
        return load(origin).settings
    except InjectorError:
        return policies.Settings()  # doctor still checks the defaults


def _root() -> Check:
    ok = os.geteuid() == 0
    return Check("root", "ok" if ok else "fail", "running as root" if ok else "not root")


def _namespaces() -> list[Check]:
    from injector.agent.serve import INIT_CGROUP_NS, INIT_PID_NS  # noqa: PLC0415

    checks = []
    for kind, inode in (("pid", INIT_PID_NS), ("cgroup", INIT_CGROUP_NS)):
        try:
            ok = os.stat(f"/proc/self/ns/{kind}").st_ino == inode
        except OSError:
            ok = False
        detail = "the host's" if ok else "not the host's (run the agent outside containers)"
        checks.append(Check(f"{kind} namespace", "ok" if ok else "fail", detail))
    return checks


def _engine(url: str) -> Check:
    from injector.agent.engine import Engine  # noqa: PLC0415

    if Engine(url, timeout=3).ping():
        return Check("engine", "ok", f"{url} answers")
    return Check("engine", "fail", f"{url} does not answer")


def _pidfd() -> Check:
    if identity.pidfd_supported():
        return Check("SO_PEERPIDFD", "ok", "supported: PID reuse is caught by a pidfd")
    detail = "not supported (kernel < 6.5): the /proc start-time check is used instead"
    return Check("SO_PEERPIDFD", "warn", detail)


def _sun_path(path: str) -> Check:
    size = len(path.encode())
    ok = size <= policies.SUN_PATH_MAX
    detail = f"{path} is {size} bytes (limit {policies.SUN_PATH_MAX})"
    return Check("socket path", "ok" if ok else "fail", detail)


def _rules() -> str | None:
    """Return the DOCKER-USER chain's rules (iptables -S), or None when unreadable."""
    for tool in ("iptables", "iptables-legacy", "iptables-nft"):
        exe = shutil.which(tool)
        if exe is None:
            continue
        done = subprocess.run(
            [exe, "-w", "5", "-S", "DOCKER-USER"], capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            return done.stdout
    return None


def firewall(rules: str | None) -> Check:
    """Judge the DOCKER-USER rules: whether 169.254.169.254 is dropped for containers."""
    if rules is None:
        return Check("metadata service", "warn", "cannot read the DOCKER-USER chain; " + ADVICE)
    for line in rules.splitlines():
        words = line.split()
        if "-A" not in words or "DOCKER-USER" not in words:
            continue
        destination = _after(words, "-d")
        target = _after(words, "-j")
        if destination in {IMDS, IMDS + "/32"} and target in {"DROP", "REJECT"}:
            return Check("metadata service", "ok", f"DOCKER-USER {target}s {IMDS}")
    return Check("metadata service", "warn", ADVICE)


def _after(words: list[str], flag: str) -> str | None:
    if flag in words:
        index = words.index(flag) + 1
        return words[index] if index < len(words) else None
    return None
