"""Start the agent: refuse unless root in the host's namespaces, load the policy, bind, serve.

SIGHUP reloads the policy (a new one that does not validate keeps the old one in force);
SIGTERM and SIGINT stop the server and remove the socket.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import threading
from typing import TYPE_CHECKING

from injector import log, references
from injector.agent import policy as policies
from injector.agent.engine import Engine
from injector.agent.server import AgentServer, State
from injector.errors import ConfigError, InjectorError

if TYPE_CHECKING:
    from injector.agent.policy import Policy

# The kernel's fixed inode numbers of the initial pid and cgroup namespaces.
INIT_PID_NS = 0xEFFFFFFC
INIT_CGROUP_NS = 0xEFFFFFFB
SOCKET_MODE = 0o666
DIR_MODE = 0o755


def check_host() -> None:
    """Raise ConfigError (78) unless this is root in the host's pid and cgroup namespaces."""
    if os.geteuid() != 0:
        raise ConfigError("the agent must run as root (it reads other processes' /proc)")
    for kind, inode in (("pid", INIT_PID_NS), ("cgroup", INIT_CGROUP_NS)):
        try:
            found = os.stat(f"/proc/self/ns/{kind}").st_ino
        except OSError as exc:
            raise ConfigError(f"cannot read /proc/self/ns/{kind}: {exc.strerror}") from None
        if found != inode:
            msg = f"the agent must run in the host's {kind} namespace (not in a container)"
            raise ConfigError(msg)


def load(origin: str, timeout: float = 20.0) -> Policy:
    """Read the policy from a path, or fetch it with the host's credentials (a reference)."""
    if references.is_reference(origin):
        return policies.parse(_fetch(origin, timeout), origin)
    try:
        with open(origin, "rb") as handle:
            data = handle.read(1 << 20)
    except OSError as exc:
        raise ConfigError(f"cannot read {origin}: {exc.strerror}") from None
    return policies.parse(data, origin)


def _fetch(origin: str, timeout: float) -> bytes:
    from injector.deadline import Deadline  # noqa: PLC0415
    from injector.resolve import resolve_each  # noqa: PLC0415 - botocore

    reference = references.parse(origin)
    value = resolve_each([reference], Deadline(timeout), 1).get(reference)
    if isinstance(value, InjectorError):
        raise ConfigError(f"cannot fetch the policy: {value.message}", reference=origin)
    if value is None:
        raise ConfigError("the policy is missing (optional reference)", reference=origin)
    data: bytes = value.reveal()
    return data


def bind(path: str, state: State) -> AgentServer:
    """Make the socket's directory (0755, root) and bind the socket (0666)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise ConfigError(f"{directory} must be a directory owned by root")
    os.chmod(directory, DIR_MODE)
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise ConfigError(f"{path} exists and is not a socket")
        os.unlink(path)
    # The socket file is made with its mode: bind-then-chmod left a moment in which it
    # existed, listening, at the umask's 0755, and a container connecting then was refused.
    previous = os.umask(0o777 & ~SOCKET_MODE)
    try:
        server = AgentServer(path, state)
    finally:
        os.umask(previous)
    os.chmod(path, SOCKET_MODE)  # the same mode, also where the umask does not apply
    return server


def serve(origin: str) -> int:
    """Run until SIGTERM/SIGINT; return 0."""
    check_host()
    policy = load(origin)
    state = State(policy, Engine(policy.settings.engine))
    server = bind(policy.settings.socket, state)
    _signals(server, state, origin)
    log.info(
        "agent_started",
        socket=policy.settings.socket,
        engine=policy.settings.engine,
        policies=[rule.name for rule in policy.rules],
        origin=origin,
        pid=os.getpid(),
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with contextlib.suppress(OSError):
            os.unlink(policy.settings.socket)
    log.info("agent_stopped")
    return 0


def reload(state: State, origin: str) -> None:
    """Swap in a new policy, or keep the old one and say why."""
    try:
        new = load(origin)
    except InjectorError as exc:
        log.error("agent_reload_failed", error=exc.message, kept=state.policy.origin)
        return
    old = state.policy.settings
    if (new.settings.socket, new.settings.engine) != (old.socket, old.engine):
        log.warning("agent_reload_needs_restart", keys=["socket", "engine"])
        new = new._replace(settings=new.settings._replace(socket=old.socket, engine=old.engine))
    state.policy = new
    log.info("agent_reloaded", policies=[rule.name for rule in new.rules])


def _signals(server: AgentServer, state: State, origin: str) -> None:
    def on_hup(_signum: int, _frame: object) -> None:
        threading.Thread(target=reload, args=(state, origin), daemon=True).start()

    def on_stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
