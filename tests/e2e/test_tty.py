r"""The launchers under a terminal and a shell's job control (issue 13).

The real dist/injector runs with a pty as its controlling terminal (Python's ``os.openpty``;
the test writes the bytes a keyboard would: ``\x03`` is Ctrl-C, ``\x1a`` Ctrl-Z). Checked:
each Ctrl-C reaches the target once, Ctrl-Z stops the job in ``bash -i`` and ``fg`` resumes
it, SIGTSTP/SIGCONT sent with kill to the top process stop and resume the whole chain, only
the target keeps the caller's working directory, and a target can read the terminal and
change its modes. In a container (``docker run -it``) an interactive busybox ``sh`` keeps
working. Every wait has a deadline; nothing sleeps a fixed time to decide an outcome.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CONTAINER_BINARY, base_env, docker_cmd

TIMEOUT = 30.0
CTRL_C = b"\x03"
CTRL_Z = b"\x1a"

# A target that reports each SIGINT, SIGTSTP and SIGCONT it receives. On SIGTSTP it stops
# itself (as vi or less do after restoring the terminal); SIGTERM prints the totals and ends.
COUNTER = r"""
import os, signal, sys
counts = {"int": 0, "tstp": 0, "cont": 0}
def say(text):
    os.write(1, (text + "\n").encode())
def on(sig, frame):
    name = {signal.SIGINT: "int", signal.SIGTSTP: "tstp", signal.SIGCONT: "cont"}[sig]
    counts[name] += 1
    say(f"{name} {counts[name]}")
    if sig == signal.SIGTSTP:
        os.kill(os.getpid(), signal.SIGSTOP)
def on_term(sig, frame):
    say("total " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    os._exit(0)
for s in (signal.SIGINT, signal.SIGTSTP, signal.SIGCONT):
    signal.signal(s, on)
signal.signal(signal.SIGTERM, on_term)
if "own-group" in sys.argv:
    os.setpgid(0, 0)  # leave the terminal's foreground group, as a job-control shell does
say(f"ready pid={os.getpid()} cwd={os.getcwd()}")
while True:
    signal.pause()
"""


def _python() -> str:
    """Return a Python for target scripts: the system one (the venv's would do as well)."""
    return shutil.which("python3") or sys.executable


class Terminal:
    """A process with a fresh pty as its controlling terminal; read with deadlines."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str | None = None) -> None:
        """Start *argv* as session leader of a new session whose terminal is the pty."""
        self.master, slave = os.openpty()
        self.slave_path = os.ttyname(slave)
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
        )
        os.close(slave)
        self.out = b""

    def write(self, data: bytes) -> None:
        """Type *data* on the terminal."""
        os.write(self.master, data)

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[bytes]:
        """Wait until the output read so far matches *pattern* (a regex); consume up to it."""
        regex = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while not (match := regex.search(self.out)):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise AssertionError(f"no {pattern!r} within {timeout}s; output: {self.out!r}")
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every process of the session closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"terminal closed before {pattern!r}; output: {self.out!r}")
            self.out += chunk
        self.out = self.out[match.end() :]
        return match

    def marker(self, name: str) -> None:
        """Run ``echo`` in the shell and wait for its output (not the echo of the typing)."""
        self.write(f"echo {name}-$((40+2))\n".encode())
        self.expect(f"{name}-42")

    def attrs(self) -> list:
        """Return the terminal's current modes."""
        fd = os.open(self.slave_path, os.O_RDWR | os.O_NOCTTY)
        try:
            return termios.tcgetattr(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Kill what is left and close the pty."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(TIMEOUT)
        os.close(self.master)


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    """Start processes on their own pty; kill their sessions afterwards."""
    started: list[Terminal] = []

    def start(argv: list[str], env: dict[str, str] | None = None, **kw: str) -> Terminal:
        term = Terminal([str(a) for a in argv], env or base_env(), **kw)
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()


# -- looking at the chain from the outside --------------------------------------------------


def _stat(pid: int) -> tuple[str, int]:
    """(state letter, parent pid) of *pid* from /proc."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _wait_until(what: str, check: Callable[[], object], timeout: float = TIMEOUT) -> object:
    """Poll *check* until it returns something true; fail naming *what* after *timeout*."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (OSError, ValueError, IndexError):
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _target(top: int, comm: str) -> int:
    """Return the target, the bootloader *top*'s only child, once it runs as *comm*.

    The frozen program is PyInstaller onedir inside staticx: its Python process is the
    bootloader's child and becomes the target by exec, with no launcher in between.
    """

    def find() -> int | None:
        (target,) = _children(top)
        if Path(f"/proc/{target}/comm").read_text().strip() != comm:
            return None
        return target

    return _wait_until(f"{comm} below {top}", find)  # type: ignore[return-value]


def _states(*pids: int) -> str:
    return "".join(_stat(pid)[0] for pid in pids)


def _wait_states(pids: tuple[int, ...], want: Callable[[str], bool], what: str) -> None:
    _wait_until(f"{what} (states {_states(*pids)})", lambda: want(_states(*pids)))


def _stopped(states: str) -> bool:
    return set(states) == {"T"}


def _running(states: str) -> bool:
    return "T" not in states


def _bash(binary: Path) -> list[str]:
    return ["bash", "--norc", "--noprofile", "--noediting", "-i"]  # no readline: modes stay put


def _shell_env(binary: Path) -> dict[str, str]:
    return base_env(PS1="$ ", TERM="dumb", INJECTOR=str(binary))


# -- host: a pty, no shell ---------------------------------------------------------------


@pytest.mark.binary
def test_each_ctrl_c_reaches_the_target_once(
    binary: Path, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    """Three Ctrl-C on the terminal: the target counts three SIGINTs, not six or nine."""
    script = tmp_path / "counter.py"
    script.write_text(COUNTER)
    term = terminal([binary, _python(), script])
    term.expect(r"ready pid=\d+")
    for n in (1, 2, 3):
        term.write(CTRL_C)
        term.expect(f"int {n}\\b")
    term.proc.send_signal(signal.SIGTERM)  # by kill to the top process: once, too
    match = term.expect(r"total cont=(\d+) int=(\d+) tstp=(\d+)")
    assert match.groups() == (b"0", b"3", b"0"), term.out
    assert term.proc.wait(TIMEOUT) == 0


@pytest.mark.binary
def test_launchers_never_forward_the_terminals_signals(
    binary: Path, terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    """A target that left the foreground group gets no Ctrl-C: the bootloader never forwards it."""
    script = tmp_path / "counter.py"
    script.write_text(COUNTER)
    term = terminal([binary, _python(), script, "own-group"])
    term.expect(r"ready pid=\d+")
    for _ in range(3):
        term.write(CTRL_C)
        term.expect(r"\^C")  # echoed: the line discipline has signalled the group
    term.proc.send_signal(signal.SIGTERM)  # after the SIGINTs in every queue of the chain
    match = term.expect(r"total cont=(\d+) int=(\d+) tstp=(\d+)")
    assert match.groups() == (b"0", b"0", b"0"), term.out
    assert term.proc.wait(TIMEOUT) == 0


@pytest.mark.binary
def test_kill_to_the_bootloader_reaches_the_target_once(binary: Path, tmp_path: Path) -> None:
    """A SIGINT sent to the top process is forwarded to its child, the target, exactly once."""
    script = tmp_path / "counter.py"
    script.write_text(COUNTER)
    proc = subprocess.Popen(
        [str(binary), _python(), str(script)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=base_env(),
        process_group=0,
    )
    try:
        assert proc.stdout is not None
        out = _Lines(proc.stdout.fileno())
        assert out.next().startswith("ready ")
        target = _target(proc.pid, "python3")
        assert not _children(target)  # no process of ours left between or below
        os.kill(proc.pid, signal.SIGINT)
        assert out.next() == "int 1"
        os.kill(proc.pid, signal.SIGTERM)
        assert out.next() == "total cont=0 int=1 tstp=0"
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(TIMEOUT)


@pytest.mark.binary
def test_chain_stays_in_the_terminals_foreground_group(
    binary: Path, terminal: Callable[..., Terminal]
) -> None:
    """Bootloader and target share the caller's process group, the foreground one."""
    term = terminal([binary, "sleep", "60"])
    target = _target(term.proc.pid, "sleep")
    groups = {os.getpgid(pid) for pid in (term.proc.pid, target)}
    assert groups == {term.proc.pid}
    assert os.tcgetpgrp(term.master) == term.proc.pid  # the master reports the slave's group


@pytest.mark.binary
def test_target_inherits_no_signal_disposition(
    binary: Path, terminal: Callable[..., Terminal]
) -> None:
    """The target's caught, ignored and blocked signals are a plain exec's."""
    term = terminal([binary, "sleep", "60"])
    target = _target(term.proc.pid, "sleep")
    plain = terminal(["sleep", "60"])  # what a plain exec inherits here (xdist ignores some)

    def mask(pid: int, key: str) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1], 16)
        raise AssertionError(key)

    for key in ("SigCgt", "SigIgn", "SigBlk"):
        assert mask(target, key) == mask(plain.proc.pid, key), key


# -- host: kill to the top process ----------------------------------------------------------


def _wait_stopped(pid: int) -> int:
    """Wait (WUNTRACED) until our child *pid* stops; its stop signal."""
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), status
    return os.WSTOPSIG(status)


@pytest.mark.binary
def test_kill_tstp_and_cont_to_the_top_process(binary: Path, tmp_path: Path) -> None:
    """Kill -TSTP: the target gets it once and the whole chain stops; kill -CONT resumes it."""
    script = tmp_path / "counter.py"
    script.write_text(COUNTER)
    proc = subprocess.Popen(
        [str(binary), _python(), str(script)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=base_env(),
        process_group=0,  # a group of its own, not orphaned: its parent (we) is in the session
    )
    try:
        assert proc.stdout is not None
        out = _Lines(proc.stdout.fileno())
        assert out.next().startswith("ready ")
        chain = (proc.pid, _target(proc.pid, "python3"))

        os.kill(proc.pid, signal.SIGTSTP)
        assert out.next() == "tstp 1"
        assert _wait_stopped(proc.pid) == signal.SIGTSTP
        _wait_states(chain, _stopped, "both stopped")

        os.kill(proc.pid, signal.SIGCONT)
        assert out.next() == "cont 1"
        _wait_states(chain, _running, "both running")

        os.kill(proc.pid, signal.SIGTERM)
        assert out.next() == "total cont=1 int=0 tstp=1"
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(TIMEOUT)


@pytest.mark.binary
def test_kill_tstp_stops_a_plain_target(binary: Path) -> None:
    """A target without handlers stops on a kill()ed SIGTSTP, resumes on SIGCONT, dies of TERM."""
    proc = subprocess.Popen([str(binary), "sleep", "60"], env=base_env(), process_group=0)
    try:
        chain = (proc.pid, _target(proc.pid, "sleep"))
        os.kill(proc.pid, signal.SIGTSTP)
        assert _wait_stopped(proc.pid) == signal.SIGTSTP
        _wait_states(chain, _stopped, "both stopped")
        os.kill(proc.pid, signal.SIGCONT)
        _wait_states(chain, _running, "both running")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(TIMEOUT)


@pytest.mark.binary
def test_kill_tstp_without_job_control_does_not_hang_the_chain(
    binary: Path, tmp_path: Path
) -> None:
    """In an orphaned group (no shell could ever continue it) the chain is continued at once."""
    script = tmp_path / "counter.py"
    script.write_text(COUNTER)
    proc = subprocess.Popen(
        [str(binary), _python(), str(script)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=base_env(),
        start_new_session=True,  # its parent (we) is in another session: orphaned group
    )
    try:
        assert proc.stdout is not None
        out = _Lines(proc.stdout.fileno())
        assert out.next().startswith("ready ")
        target = _target(proc.pid, "python3")
        os.kill(proc.pid, signal.SIGTSTP)
        assert out.next() == "tstp 1"  # it stopped itself with SIGSTOP ...
        assert out.next() == "cont 1"  # ... and the bootloader, unable to stop, continued it
        _wait_states((proc.pid, target), _running, "both running")
        os.kill(proc.pid, signal.SIGTERM)
        assert out.next() == "total cont=1 int=0 tstp=1"
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(TIMEOUT)


class _Lines:
    """Lines from a pipe, with a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def next(self, timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError(f"no line within {timeout}s (have {self.buf!r})")
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise AssertionError(f"EOF while waiting for a line (have {self.buf!r})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


# -- host: working directory ------------------------------------------------------------------


@pytest.mark.binary
def test_only_the_target_keeps_the_working_directory(binary: Path, tmp_path: Path) -> None:
    """The bootloader is in "/"; the target runs in the caller's directory."""
    proc = subprocess.Popen([str(binary), "sleep", "60"], env=base_env(), cwd=tmp_path)
    try:
        target = _target(proc.pid, "sleep")
        assert os.readlink(f"/proc/{proc.pid}/cwd") == "/"
        assert os.readlink(f"/proc/{target}/cwd") == str(tmp_path)
    finally:
        proc.kill()
        proc.wait(TIMEOUT)


@pytest.mark.binary
def test_relative_command_and_env_after_returning_to_cwd(binary: Path, tmp_path: Path) -> None:
    """A relative command path resolves in the caller's directory; no STATICX_ORIG_CWD leaks."""
    script = tmp_path / "show.sh"
    script.write_text('#!/bin/sh\npwd\nenv | grep -c "^STATICX_" || true\n')
    script.chmod(0o755)
    res = subprocess.run(
        [str(binary), "./show.sh"],
        env=base_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(tmp_path), "0"]


# -- host: bash -i ------------------------------------------------------------------------------


@pytest.fixture
def bash_term(binary: Path, terminal: Callable[..., Terminal]) -> Terminal:
    """Return an interactive bash under a pty, with $INJECTOR set, ready for input."""
    if shutil.which("bash") is None:
        pytest.skip("bash not installed")
    term = terminal(_bash(binary), _shell_env(binary))
    term.marker("READY")
    return term


@pytest.mark.binary
def test_bash_job_control_ctrl_z_fg_ctrl_c(bash_term: Terminal) -> None:
    """In bash -i: Ctrl-Z gives "Stopped", fg resumes the target, Ctrl-C ends it with 130."""
    term = bash_term
    term.write(b'"$INJECTOR" -- sleep 60\n')
    bash = term.proc.pid
    top = _wait_until("the bootloader below bash", lambda: _children(bash))[0]  # type: ignore[index]
    chain = (top, _target(top, "sleep"))

    term.write(CTRL_Z)
    term.expect(r"Stopped")
    _wait_states(chain, _stopped, "both stopped")
    term.marker("STOPPED")

    term.write(b"fg\n")
    _wait_states(chain, _running, "both running after fg")
    term.write(CTRL_C)
    _wait_until("the job to end", lambda: not Path(f"/proc/{top}").exists())
    term.write(b"echo rc=$?-$((1+1))\n")
    term.expect(r"rc=130-2")


@pytest.mark.binary
def test_background_read_stops_the_job_with_sigttin(bash_term: Terminal) -> None:
    """A background job that reads the terminal is "Stopped (tty input)"; fg lets it read."""
    term = bash_term
    term.write(b'"$INJECTOR" -- head -n1 &\n')
    bash = term.proc.pid
    top = _wait_until("the bootloader below bash", lambda: _children(bash))[0]  # type: ignore[index]
    chain = (top, _target(top, "head"))
    _wait_states(chain, _stopped, "both stopped")
    term.write(b"jobs -l\n")
    term.expect(r"Stopped \(tty input\)")
    term.marker("STOPPED")
    term.write(b"fg\n")
    _wait_states(chain, _running, "both running after fg")
    term.write(b"from-the-keyboard\n")
    term.expect(r"from-the-keyboard\r?\n(.*\n)?from-the-keyboard")  # echo, then head's output
    term.write(b"echo rc=$?-$((1+1))\n")
    term.expect(r"rc=0-2")


@pytest.mark.binary
def test_target_reads_the_terminal_and_modes_are_restored(bash_term: Terminal) -> None:
    """A foreground target can turn echo off, read a line and turn it back on; stty -a works."""
    term = bash_term
    before = term.attrs()
    term.write(b'"$INJECTOR" -- sh -c \'stty -echo; echo ASK; read x; echo "got:$x"; stty echo\'\n')
    term.expect(r"(?:\n|\$ )ASK\r?\n")  # typed ahead, the line may follow bash's prompt
    term.write(b"typed-line\n")
    term.expect(r"got:typed-line")
    term.write(b"echo rc=$?-$((1+1))\n")
    term.expect(r"rc=0-2")
    assert term.attrs() == before
    term.write(b'"$INJECTOR" -- stty -a; echo rc=$?-$((1+1))\n')
    term.expect(r"speed \d+ baud")
    term.expect(r"rc=0-2")
    assert b"Stopped" not in term.out


# -- container: docker run -it ------------------------------------------------------------------


@pytest.fixture
def busybox(images: dict[str, str]) -> str:
    """Return the offline busybox test image."""
    return images["busybox"]


def _docker_run_it(binary: Path, image: str, name: str, *command: str) -> list[str]:
    return [
        "docker", "run", "-it", "--rm", "--name", name, "--network", "none", "--pull", "never",
        "-v", f"{binary}:{CONTAINER_BINARY}:ro", "--entrypoint", CONTAINER_BINARY,
        "-e", "AWS_EC2_METADATA_DISABLED=true", "-e", "PS1=$ ", image, *command,
    ]  # fmt: skip


@pytest.fixture
def container_name() -> Iterator[str]:
    """Yield a unique container name; the container is removed afterwards."""
    name = f"injector-tty-{uuid.uuid4().hex[:12]}"
    yield name
    docker_cmd("rm", "-f", name, check=False)


@pytest.mark.container
def test_busybox_shell_in_docker_run_it(
    binary: Path, busybox: str, terminal: Callable[..., Terminal], container_name: str
) -> None:
    """Interactive busybox sh: Ctrl-C at the prompt keeps it, ends only a sleep; exit 3 -> 3."""
    argv = _docker_run_it(binary, busybox, container_name, "sh")
    term = terminal(argv, {**os.environ, "TERM": "dumb"})
    term.marker("READY")
    term.write(CTRL_C)
    term.marker("ALIVE")

    term.write(b"sleep 100\n")
    top = int(docker_cmd("inspect", "-f", "{{.State.Pid}}", container_name).stdout)
    _wait_until("sleep in the container", lambda: _descendant(top, "sleep"))
    term.write(CTRL_C)
    term.write(b"echo rc=$?-$((1+1))\n")
    term.expect(r"rc=130-2")

    term.write(b"exit 3\n")
    assert term.proc.wait(TIMEOUT) == 3


# Counts SIGINTs; `wait` returns as soon as a trapped signal arrives (the background sleep
# ignores SIGINT, as every asynchronous command of a non-interactive shell does).
TRAP_COUNTER = (
    "n=0; trap 'n=$((n+1)); echo \"int $n\"' INT; trap 'echo \"total $n\"; exit 0' TERM; "
    "echo ready; while :; do sleep 1 & wait $!; done"
)


@pytest.mark.container
def test_ctrl_c_reaches_a_container_target_once(
    binary: Path, busybox: str, terminal: Callable[..., Terminal], container_name: str
) -> None:
    """Docker run -it: each Ctrl-C reaches a trapping target once; docker kill -s TERM too."""
    argv = _docker_run_it(binary, busybox, container_name, "sh", "-c", TRAP_COUNTER)
    term = terminal(argv, {**os.environ, "TERM": "dumb"})
    term.expect("ready")
    for n in (1, 2, 3):
        term.write(CTRL_C)
        term.expect(f"int {n}\\b")
    docker_cmd("kill", "-s", "TERM", container_name)
    term.expect(r"total 3\b")
    assert term.proc.wait(TIMEOUT) == 0


def _descendant(pid: int, comm: str) -> int | None:
    """Return a descendant of *pid* named *comm*, if any."""
    for child in _children(pid):
        if Path(f"/proc/{child}/comm").read_text().strip() == comm:
            return child
        found = _descendant(child, comm)
        if found:
            return found
    return None
