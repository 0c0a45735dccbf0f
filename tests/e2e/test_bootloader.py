"""The patched staticx bootloader (packaging/staticx/) behaves like an init.

A tiny C probe is compiled with gcc, wrapped with the staticx found next to
the running interpreter (or ``$INJECTOR_TEST_STATICX``), and run directly and
as PID 1 of a new PID namespace. The staticx used must be the patched build
(``packaging/staticx/build.sh VENV`` installs it; its version ends in
``+injector.N``).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.binary

PROBE_C = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void say(const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); vprintf(fmt, ap); va_end(ap);
    fflush(stdout);
}

static void on_signal(int sig)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "sig %d\n", sig);
    write(1, buf, n);
    if (sig == SIGTERM)
        _exit(0);
}

static void status_line(const char *key)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            say("%s", line);
    if (f) fclose(f);
}

static const char *env_or(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "<unset>";
}

static char proc_state(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    prctl(PR_SET_DUMPABLE, 0);          /* no core files from signal deaths */

    if (!strcmp(mode, "exit"))
        return atoi(argv[2]);

    if (!strcmp(mode, "raise")) {
        int sig = atoi(argv[2]);
        signal(sig, SIG_DFL);
        raise(sig);
        return 99;
    }

    if (!strcmp(mode, "trap") || !strcmp(mode, "sleep")) {
        if (!strcmp(mode, "trap"))
            for (int i = 2; i < argc; i++)
                signal(atoi(argv[i]), on_signal);
        say("ready pid=%d ppid=%d\n", getpid(), getppid());
        for (;;)
            pause();
    }

    if (!strcmp(mode, "env")) {
        say("TMPDIR=%s\n", env_or("TMPDIR"));
        say("STATICX_ORIG_TMPDIR=%s\n", env_or("STATICX_ORIG_TMPDIR"));
        say("STATICX_BUNDLE_DIR=%s\n", env_or("STATICX_BUNDLE_DIR"));
        say("pid=%d ppid=%d\n", getpid(), getppid());
        status_line("SigBlk:");
        status_line("SigIgn:");
        return 0;
    }

    if (!strcmp(mode, "orphans")) {
        /* Each middle child forks a grandchild and exits at once, so the
         * grandchild is re-parented to PID 1 and exits 100 ms later. */
        int n = atoi(argv[2]), fds[2], gpids[64];
        pipe(fds);
        for (int i = 0; i < n; i++) {
            pid_t mid = fork();
            if (mid == 0) {
                pid_t g = fork();
                if (g == 0) { usleep(100000); _exit(0); }
                write(fds[1], &g, sizeof g);
                _exit(0);
            }
            waitpid(mid, NULL, 0);
            read(fds[0], &gpids[i], sizeof gpids[i]);
        }
        say("ppid=%d\n", getppid());
        int left = n;
        for (int tries = 0; tries < 60 && left; tries++) {   /* up to 3 s */
            usleep(50000);
            left = 0;
            for (int i = 0; i < n; i++)
                if (proc_state(gpids[i])) left++;
        }
        int zombies = 0;
        for (int i = 0; i < n; i++)
            if (proc_state(gpids[i]) == 'Z') zombies++;
        say("orphans left=%d zombies=%d\n", left, zombies);
        return 0;
    }

    fprintf(stderr, "probe: unknown mode %s\n", mode);
    return 100;
}
"""

TIMEOUT = 20.0
NAMED_SIGNALS = [signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT]
Spawn = Callable[..., subprocess.Popen[bytes]]
RT_SIGNAL = 40  # a realtime signal for both glibc (SIGRTMIN 34) and musl (35)


def _staticx() -> list[str]:
    exe = os.environ.get("INJECTOR_TEST_STATICX") or str(Path(sys.executable).parent / "staticx")
    if not Path(exe).exists():
        pytest.fail(f"staticx not found at {exe}; run packaging/staticx/build.sh VENV")
    return [exe]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the probe, wrap it with the patched staticx, keep it in a 0755 dir."""
    for tool in ("gcc",):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    version = subprocess.run(
        [*_staticx(), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if "+injector" not in version:
        pytest.fail(f"{version!r} is not the patched staticx; run packaging/staticx/build.sh VENV")

    work = tmp_path_factory.mktemp("probe")
    src = work / "probe.c"
    src.write_text(PROBE_C)
    dyn = work / "probe"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(dyn), str(src)], check=True)
    # A directory every user can traverse, so the probe also runs as nobody.
    pub = Path(os.environ.get("INJECTOR_TEST_PUBLIC_DIR", "/var/tmp")) / f"sxprobe-{os.getpid()}"
    pub.mkdir(mode=0o755, exist_ok=True)
    pub.chmod(0o755)
    out = pub / "probe.sx"
    subprocess.run([*_staticx(), str(dyn), str(out)], check=True)
    yield out
    shutil.rmtree(pub, ignore_errors=True)


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (namespaces, mounts, switching user)")
    if shutil.which("unshare") is None:
        pytest.skip("unshare not installed")


def _env(**extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TMPDIR" and not k.startswith("STATICX_")}
    env.update({key: value for key, value in extra.items() if value is not None})
    return env


def _pid1(cmd: Sequence[str]) -> list[str]:
    return ["unshare", "--pid", "--fork", "--mount-proc", *cmd]


class Lines:
    """Read stdout lines of a running process with a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        """Read from the process's stdout pipe."""
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def next(self, timeout: float = TIMEOUT) -> str:
        """Return the next line, failing after `timeout` seconds."""
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


def _bootloader_pid(proc: subprocess.Popen[bytes], pid1: bool) -> int:
    """Host pid of the bootloader: the process itself, or unshare's only child."""
    if not pid1:
        return proc.pid
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


@pytest.fixture
def spawn(probe: Path) -> Iterator[Spawn]:
    """Start the probe (optionally as PID 1); kill leftovers afterwards."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: Sequence[str], pid1: bool = False) -> subprocess.Popen[bytes]:
        cmd = [str(probe), *args]
        proc = subprocess.Popen(
            _pid1(cmd) if pid1 else cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _run(cmd: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("env", _env())
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kw)


def _kv(stdout: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in stdout.splitlines() if " " not in line)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


@pytest.mark.parametrize("pid1", [False, True], ids=["child", "pid1"])
def test_forwards_signals_to_child(spawn: Spawn, pid1: bool) -> None:
    """HUP, USR1, USR2, INT, a realtime signal and TERM reach the trapping child."""
    if pid1:
        _needs_root()
    sigs = [*NAMED_SIGNALS, RT_SIGNAL]
    proc = spawn(["trap", *(str(int(s)) for s in [*sigs, signal.SIGTERM])], pid1=pid1)
    out = Lines(proc)
    assert out.next().startswith("ready ")
    target = _bootloader_pid(proc, pid1)
    for sig in sigs:
        os.kill(target, sig)
        assert out.next() == f"sig {int(sig)}"
    os.kill(target, signal.SIGTERM)
    assert out.next() == f"sig {int(signal.SIGTERM)}"
    assert proc.wait(TIMEOUT) == 0


@pytest.mark.parametrize("pid1", [False, True], ids=["child", "pid1"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP, signal.SIGINT])
def test_forwarded_signal_death_exits_128_plus_n(
    spawn: Spawn, pid1: bool, sig: signal.Signals
) -> None:
    """A forwarded signal that kills the child gives 128+n, also as PID 1."""
    if pid1:
        _needs_root()
    proc = spawn(["sleep"], pid1=pid1)
    assert Lines(proc).next().startswith("ready ")
    os.kill(_bootloader_pid(proc, pid1), sig)
    assert proc.wait(TIMEOUT) == 128 + sig


@pytest.mark.parametrize("pid1", [False, True], ids=["child", "pid1"])
@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_exit_code_passthrough(probe: Path, pid1: bool, code: int) -> None:
    """The child's exit code is the bootloader's."""
    if pid1:
        _needs_root()
    cmd = [str(probe), "exit", str(code)]
    res = _run(_pid1(cmd) if pid1 else cmd)
    assert res.returncode == code, res.stderr
    assert res.stderr == ""


@pytest.mark.parametrize("pid1", [False, True], ids=["child", "pid1"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGTERM])
def test_child_signal_death_exits_128_plus_n(probe: Path, pid1: bool, sig: signal.Signals) -> None:
    """A child killed by signal n gives exit code 128+n (never a re-raise)."""
    if pid1:
        _needs_root()
    cmd = [str(probe), "raise", str(int(sig))]
    res = _run(_pid1(cmd) if pid1 else cmd)
    assert res.returncode == 128 + sig, res.stderr


def test_reaps_orphans_as_pid1(probe: Path) -> None:
    """Orphans re-parented to the bootloader as PID 1 do not stay zombies."""
    _needs_root()
    res = _run(_pid1([str(probe), "orphans", "5"]))
    assert res.returncode == 0, res.stderr
    assert "ppid=1\n" in res.stdout  # the bootloader really is PID 1
    assert "orphans left=0 zombies=0" in res.stdout, res.stdout


def test_signal_before_child_exists_exits_128_plus_n(probe: Path, tmp_path: Path) -> None:
    """A SIGTERM pending when the bootloader starts is not lost: 143, target never runs."""
    tmpdir = tmp_path / "t"
    tmpdir.mkdir()

    def pending_sigterm() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        os.kill(os.getpid(), signal.SIGTERM)

    res = subprocess.run(
        [str(probe), "env"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=_env(TMPDIR=str(tmpdir)),
        preexec_fn=pending_sigterm,
    )
    assert res.returncode == 128 + signal.SIGTERM, res
    assert res.stdout == ""  # the target never started
    assert list(tmpdir.iterdir()) == []  # and the extraction was cleaned up


def test_child_gets_clean_signal_mask_and_tmpdir_info(probe: Path, tmp_path: Path) -> None:
    """A usable TMPDIR is kept, recorded, and the bundle is removed afterwards."""
    res = _run([str(probe), "env"], env=_env(TMPDIR=str(tmp_path)))
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["TMPDIR"] == str(tmp_path)
    assert kv["STATICX_ORIG_TMPDIR"] == f"={tmp_path}"
    assert kv["STATICX_BUNDLE_DIR"].startswith(f"{tmp_path}/staticx-")
    assert "SigBlk:\t0000000000000000" in res.stdout  # nothing blocked leaks
    assert list(tmp_path.iterdir()) == []  # bundle removed after the child exited


def test_unset_tmpdir_is_recorded_as_unset(probe: Path) -> None:
    """An unset TMPDIR is recorded as "-" and /tmp is used."""
    res = _run([str(probe), "env"])
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["STATICX_ORIG_TMPDIR"] == "-"
    assert kv["TMPDIR"] == "/tmp"


def test_empty_tmpdir_is_recorded_as_set_and_empty(probe: Path) -> None:
    """An empty TMPDIR is recorded as "=" (set, empty) and skipped."""
    res = _run([str(probe), "env"], env=_env(TMPDIR=""))
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["STATICX_ORIG_TMPDIR"] == "="
    assert kv["TMPDIR"] == "/tmp"


@pytest.mark.parametrize("bad", ["/nonexistent/dir", "relative/dir"])
def test_missing_or_relative_tmpdir_falls_back(probe: Path, bad: str) -> None:
    """A missing or relative TMPDIR is skipped for /tmp."""
    res = _run([str(probe), "env"], env=_env(TMPDIR=bad))
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["TMPDIR"] == "/tmp"
    assert kv["STATICX_ORIG_TMPDIR"] == f"={bad}"


def test_output_file_is_0755_and_runs_as_nobody_with_unwritable_tmpdir(probe: Path) -> None:
    """The output is 0755 and runs as nobody, skipping an unwritable TMPDIR."""
    _needs_root()
    assert stat.S_IMODE(probe.stat().st_mode) == 0o755
    unwritable = probe.parent / "root-only"  # reachable by nobody, not writable
    unwritable.mkdir(mode=0o755, exist_ok=True)
    res = _run(
        [str(probe), "env"],
        env=_env(TMPDIR=str(unwritable)),
        user=65534,
        group=65534,
        extra_groups=[],
        cwd="/",
    )
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["TMPDIR"] == "/tmp"
    assert kv["STATICX_ORIG_TMPDIR"] == f"={unwritable}"


def _in_mount_ns(
    setup: str, probe: Path, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    # fd 3 keeps the probe reachable even when its directory gets mounted over
    script = f"set -e; exec 3<{probe}; {setup}; exec /proc/self/fd/3 {' '.join(args)}"
    return _run(["unshare", "--mount", "sh", "-c", script], env=env)


def test_noexec_tmpdir_and_tmp_fall_back_to_next_candidate(probe: Path, tmp_path: Path) -> None:
    """A noexec TMPDIR and a noexec /tmp are skipped for /dev/shm."""
    _needs_root()
    noexec = tmp_path / "noexec"
    noexec.mkdir()
    setup = f"mount -t tmpfs -o noexec tmpfs {noexec}; mount -t tmpfs -o noexec tmpfs /tmp"
    res = _in_mount_ns(setup, probe, "env", env=_env(TMPDIR=str(noexec)))
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["TMPDIR"] == "/dev/shm"
    assert kv["STATICX_ORIG_TMPDIR"] == f"={noexec}"


def test_read_only_tmp_falls_back(probe: Path) -> None:
    """A read-only /tmp is skipped."""
    _needs_root()
    setup = "mount -t tmpfs -o ro tmpfs /tmp; mount -t tmpfs -o noexec tmpfs /dev/shm"
    res = _in_mount_ns(setup, probe, "env", env=_env())
    assert res.returncode == 0, res.stderr
    kv = _kv(res.stdout)
    assert kv["TMPDIR"] not in ("/tmp", "/dev/shm")
    assert kv["STATICX_ORIG_TMPDIR"] == "-"


def test_no_usable_tmpdir_gives_one_clear_line(probe: Path, tmp_path: Path) -> None:
    """With no usable candidate: exit 73 and one line naming each candidate."""
    _needs_root()
    roots = ["/tmp", "/dev/shm", "/run", "/var/tmp", "/dev"]
    setup = "; ".join(f"if [ -d {r} ]; then mount -t tmpfs -o noexec tmpfs {r}; fi" for r in roots)
    res = _in_mount_ns(setup, probe, "env", env=_env(TMPDIR=str(tmp_path / "missing")))
    assert res.returncode == 73, res
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert "no usable temporary directory" in lines[0]
    assert f"TMPDIR={tmp_path / 'missing'} (missing)" in lines[0]
    for root in roots:
        assert f"{root} (" in lines[0]
    assert "/tmp (mounted noexec)" in lines[0]


def test_job_control_stop_follows_a_plain_child(probe: Path) -> None:
    """A kill()ed SIGTSTP stops a plain child, then the bootloader; SIGCONT resumes both."""
    proc = subprocess.Popen(
        [str(probe), "sleep"], stdout=subprocess.PIPE, env=_env(), process_group=0
    )
    try:
        assert Lines(proc).next().startswith("ready ")
        (child,) = (
            int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        )
        os.kill(proc.pid, signal.SIGTSTP)
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        assert os.WSTOPSIG(status) == signal.SIGTSTP
        assert _state(child) == "T"
        os.kill(proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + TIMEOUT
        while _state(child) == "T" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _state(child) != "T"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(TIMEOUT)


def _state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def _cwd_becomes(pid: int, wanted: str, timeout: float = 10.0) -> bool:
    """Wait until *pid*'s working directory is *wanted* (it moves right after the fork)."""
    deadline = time.monotonic() + timeout
    while os.readlink(f"/proc/{pid}/cwd") != wanted:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_plain_child_keeps_the_working_directory(probe: Path, tmp_path: Path) -> None:
    """The bootloader moves to "/"; a non-PyInstaller child keeps the cwd and gets no variable."""
    proc = subprocess.Popen(
        [str(probe), "sleep"],
        stdout=subprocess.PIPE,
        env=_env(STATICX_ORIG_CWD="/somewhere"),
        cwd=tmp_path,
    )
    try:
        assert Lines(proc).next().startswith("ready ")
        (child,) = (
            int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        )
        assert _cwd_becomes(proc.pid, "/"), "the bootloader kept the caller's directory"
        assert os.readlink(f"/proc/{child}/cwd") == str(tmp_path)
        assert b"STATICX_ORIG_CWD=" not in Path(f"/proc/{child}/environ").read_bytes()
    finally:
        proc.kill()
        proc.wait(TIMEOUT)
