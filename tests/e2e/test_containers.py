"""The binary as a container's entrypoint, in real containers on a real Docker engine.

Every case runs on each offline test image (busybox only without libc, Alpine with musl,
Debian with glibc), with dist/injector volume-mounted read-only at /sbin/injector. Targets
are small shell scripts. Secrets come from the session's moto server on 127.0.0.1, which the
containers reach with `--network host`; every case that fetches nothing runs with
`--network none`. Cases 3-6 run both without and with `docker run --init`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    BUCKET,
    IMAGE_KINDS,
    Container,
    Docker,
    Moto,
    Secrets,
    container_aws_env,
    docker_cmd,
)

pytestmark = pytest.mark.container

INIT = [pytest.param(False, id="no-init"), pytest.param(True, id="init")]
HOST = ["--network", "host"]


@pytest.fixture(params=IMAGE_KINDS)
def image(request: pytest.FixtureRequest, images: dict[str, str]) -> str:
    """Each image of the matrix in turn."""
    return images[request.param]


def sha(value: str) -> str:
    """`sha256sum` output for *value* read from stdin."""
    return hashlib.sha256(value.encode()).hexdigest() + "  -"


def failed_event(stderr: str) -> dict:
    """Return the one `failed` JSON line injector writes before exiting on its own error."""
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    failed = [e for e in events if e.get("event") == "failed"]
    assert len(failed) == 1, stderr
    return failed[0]


# -- helpers that look at a container from the host ------------------------------------


def container_pids(container: Container) -> list[int]:
    """Host pids of every process in the container's PID namespace."""
    init = container.host_pid()
    ns = os.readlink(f"/proc/{init}/ns/pid")
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                    pids.append(int(entry))
            except OSError:
                continue
    assert init in pids
    return pids


def inner_pid(host_pid: int) -> int:
    """Return the pid process *host_pid* has inside its container (last NSpid field)."""
    status = Path(f"/proc/{host_pid}/status").read_text()
    return int(re.search(r"^NSpid:\s*(.*)$", status, re.MULTILINE).group(1).split()[-1])


def files_under(root: Path) -> Iterator[Path]:
    """Regular files below *root* (not following symlinks)."""
    for dirpath, _dirs, names in os.walk(root, followlinks=False):
        for name in names:
            path = Path(dirpath, name)
            if not path.is_symlink() and path.is_file():  # lstat first: links may point anywhere
                yield path


def files_holding(roots: list[Path], values: tuple[str, ...], since: float = 0) -> list[str]:
    """Files below *roots* (changed after *since*) whose bytes or names contain a value."""
    needles = [v.encode() for v in values]
    hits = []
    for root in roots:
        if not root.exists():
            continue
        for path in files_under(root):
            try:
                stat = path.stat()
                if stat.st_mtime < since or stat.st_size > 200 * 1024 * 1024:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if any(n in data or n in os.fsencode(path) for n in needles):
                hits.append(str(path))
    return hits


# -- case 1: the secret reaches the program, and docker inspect never shows it ------------

PRINT_SECRETS = (
    'for v in "$SECRET" "$DB_PASSWORD" "$ENVFILE_KEY"; do printf %s "$v" | sha256sum; done; '
    "env | cut -d= -f1"
)


def test_secret_reaches_the_program(
    docker: Docker, image: str, moto: Moto, secrets: Secrets
) -> None:
    """All three delivery forms reach the target, and `docker inspect` shows only references."""
    env = container_aws_env(moto, **secrets.env())
    container = docker.start(image, ["sh", "-c", PRINT_SECRETS], env=env, options=HOST)
    assert container.exit_code() == 0, container.logs()
    out, err = container.logs()
    lines = out.splitlines()
    assert lines[:3] == [sha(v) for v in secrets.values], (out, err)
    names = set(lines[3:])
    assert {"SECRET", "DB_PASSWORD", "ENVFILE_KEY"} <= names
    leaked = {n for n in names if n.startswith(("INJECTOR_", "CREDENTIALS_", "STATICX", "_PYI"))}
    assert not leaked
    assert "BUCKETSUFFIX" not in names

    inspect_env = container.inspect()["Config"]["Env"]
    assert f"SECRET={secrets.env()['SECRET']}" in inspect_env
    whole = docker_cmd("inspect", container.name).stdout
    for value in secrets.values:
        assert value not in json.dumps(inspect_env)
        assert value not in whole


# -- case 2: no secret on disk, no secret in any other process ----------------------------

SLEEPER = 'echo "pid=$$"; printf %s "$SECRET" | sha256sum; echo ready; exec sleep 600'


def test_no_secret_on_disk_or_in_other_processes(
    docker: Docker, image: str, moto: Moto, secrets: Secrets
) -> None:
    """Only the target's /proc holds the values; no file the run touched does, before or after."""
    started = time.time() - 1
    env = container_aws_env(moto, **secrets.env())
    container = docker.start(image, ["sh", "-c", SLEEPER], env=env, options=HOST)
    out = container.wait_for("ready")
    assert sha(secrets.s3_value) in out
    target = int(re.search(r"pid=(\d+)", out).group(1))

    holders, others = [], []
    for pid in container_pids(container):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # a short-lived process that just went away
            continue
        held = [v for v in secrets.values if v.encode() in environ + cmdline]
        if inner_pid(pid) == target:
            holders.append((pid, held, environ))
        else:
            others.append((pid, cmdline.replace(b"\0", b" ")[:120], held))
    assert len(holders) == 1, (target, holders, others)
    _pid, held, environ = holders[0]
    assert held == list(secrets.values)  # proves the scan can see a value where there is one
    assert others, "no launcher processes found next to the target"
    assert [o for o in others if o[2]] == [], others
    init_environ = Path(f"/proc/{container.host_pid()}/environ").read_bytes()
    assert secrets.env()["SECRET"].encode() in init_environ  # PID 1 holds only the reference

    # The container's own /tmp (whatever backs it) while the target runs.
    root = Path(f"/proc/{container.host_pid()}/root")
    assert files_holding([root / "tmp", root / "dev" / "shm", root / "run"], secrets.values) == []

    docker_cmd("stop", "-t", "5", container.name)
    info = container.inspect()
    upper = Path(info["GraphDriver"]["Data"]["UpperDir"])
    assert upper.is_dir()
    assert files_holding([upper], secrets.values) == []
    diff = docker_cmd("diff", container.name).stdout
    for value in secrets.values:
        assert value not in diff
    for line in diff.splitlines():  # nothing left but the emptied extraction parents
        path = line.split(" ", 1)[1]
        assert not path.startswith(("/tmp/staticx-", "/tmp/_MEI")), diff
    container_dir = Path("/var/lib/docker/containers") / info["Id"]
    host_tmp = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), container_dir]
    assert files_holding(host_tmp, secrets.values, since=started) == []


# -- case 3: exit codes ----------------------------------------------------------------

TARGET_EXITS = {
    "exit-0": ("exit 0", 0),
    "exit-1": ("exit 1", 1),
    "exit-42": ("exit 42", 42),
    "exit-255": ("exit 255", 255),
    "sigkill": ("kill -KILL $$", 137),
    "sigterm": ("kill -TERM $$", 143),
    "sigusr1": ("kill -USR1 $$", 138),
}


@pytest.mark.parametrize("init", INIT)
@pytest.mark.parametrize("case", list(TARGET_EXITS))
def test_exit_code_is_the_targets(docker: Docker, image: str, case: str, init: bool) -> None:
    """The container exits with the target's own code, or 128+n when signal n killed it."""
    script, code = TARGET_EXITS[case]
    done = docker.run(image, ["sh", "-c", f"echo started; {script}"], init=init)
    assert done.returncode == code, done.stderr
    assert done.stdout == "started\n"


def injector_failures(secrets: Secrets) -> dict[str, tuple[dict[str, str], list[str], int, bool]]:
    """Failure name -> (environment, injector argv, documented exit code, needs moto)."""
    started = ["sh", "-c", "echo STARTED"]
    return {
        "usage-64": ({}, ["--no-such-option", *started], 64, False),
        "bad-data-65": ({"X": secrets.json_ref + "#/missing"}, started, 65, True),
        "not-found-66": ({"X": f"ref+s3://{BUCKET}/no/such/key"}, started, 66, True),
        "no-credentials-77": (
            {"X": f"ref+s3://{BUCKET}/app/secret", "AWS_EC2_METADATA_DISABLED": "true"},
            started,
            77,
            False,
        ),
        "config-78": ({"CREDENTIALS_X": "true"}, started, 78, False),
        "not-executable-126": ({}, ["/dev/null"], 126, False),
        "not-found-127": ({}, ["/no/such/program"], 127, False),
    }


FAILURES = [
    "usage-64",
    "bad-data-65",
    "not-found-66",
    "no-credentials-77",
    "config-78",
    "not-executable-126",
    "not-found-127",
]


@pytest.mark.parametrize("init", INIT)
@pytest.mark.parametrize("failure", FAILURES)
def test_injector_failure_codes(  # noqa: PLR0913, PLR0917 - fixtures and parameters
    docker: Docker, image: str, moto: Moto, secrets: Secrets, failure: str, init: bool
) -> None:
    """Injector's own failures exit with the documented code, and the target never starts."""
    env, argv, code, needs_moto = injector_failures(secrets)[failure]
    if needs_moto:
        done = docker.run(image, argv, env=container_aws_env(moto, **env), options=HOST, init=init)
    else:
        done = docker.run(image, argv, env=env, init=init)
    assert done.returncode == code, done.stderr
    assert "STARTED" not in done.stdout
    assert failed_event(done.stderr)["exit_code"] == code
    for value in secrets.values:
        assert value not in done.stderr


@pytest.mark.parametrize("init", INIT)
@pytest.mark.parametrize(("signal", "code"), [("HUP", 129), ("USR2", 140)])
def test_signal_from_outside_kills_the_target(
    docker: Docker, image: str, signal: str, code: int, init: bool
) -> None:
    """A signal the target does not handle, sent with `docker kill`, kills it: exit 128+n."""
    container = docker.start(image, ["sh", "-c", "echo ready; exec sleep 600"], init=init)
    container.wait_for("ready")
    docker_cmd("kill", "-s", signal, container.name)
    assert container.exit_code(timeout=20) == code, container.logs()


# -- case 4: signals reach the target ------------------------------------------------------

TRAPPER = (
    'for s in HUP USR1 USR2 INT; do trap "echo got $s" $s; done; '
    "trap 'echo got TERM; exit 0' TERM; "
    "echo ready; while :; do sleep 1 & wait $!; done"
)


@pytest.mark.parametrize("init", INIT)
def test_signals_reach_the_target(docker: Docker, image: str, init: bool) -> None:
    """`docker kill -s` HUP/USR1/USR2/INT reach the target; `docker stop` ends it at once."""
    container = docker.start(image, ["sh", "-c", TRAPPER], init=init)
    container.wait_for("ready")
    for name in ("HUP", "USR1", "USR2", "INT"):
        docker_cmd("kill", "-s", name, container.name)
        container.wait_for(f"got {name}", timeout=10)
    began = time.monotonic()
    docker_cmd("stop", "-t", "30", container.name, timeout=60)
    took = time.monotonic() - began
    assert took < 5, f"docker stop took {took:.1f}s: SIGTERM did not reach the target"
    assert container.exit_code() == 0
    out, _err = container.logs()
    assert out.splitlines() == ["ready", "got HUP", "got USR1", "got USR2", "got INT", "got TERM"]


# -- case 5: zombies ----------------------------------------------------------------------

ORPHANS = r"""
count() {
  z=0; o=0
  for f in /proc/[0-9]*/stat; do
    read -r l < "$f" 2>/dev/null || continue
    rest=${l##*") "}; set -- $rest
    [ "$1" = Z ] && z=$((z+1))
    case "$l" in *"(sleep)"*) [ "$2" != "$$" ] && o=$((o+1));; esac
  done
}
i=0; while [ $i -lt 20 ]; do (sleep 3 &); i=$((i+1)); done
sleep 0.5  # let every orphan exec sleep before counting, even on a loaded machine
count; echo "orphans=$o"
n=0
while [ $n -lt 100 ]; do sleep 0.1; count; [ $z -eq 0 ] && [ $o -eq 0 ] && break; n=$((n+1)); done
echo "zombies=$z left=$o"
"""


@pytest.mark.parametrize("init", INIT)
def test_orphans_are_reaped(docker: Docker, image: str, init: bool) -> None:
    """Twenty orphaned grandchildren exit and none of them stays a zombie."""
    done = docker.run(image, ["sh", "-c", ORPHANS], init=init)
    assert done.returncode == 0, done.stderr
    orphans = int(re.search(r"orphans=(\d+)", done.stdout).group(1))
    assert orphans >= 15, done.stdout  # they really were re-parented away from the target
    assert "zombies=0 left=0" in done.stdout, done.stdout


# -- case 6: hardening --------------------------------------------------------------------

HARDENED = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only"]
CHECK_SECRET = 'printf %s "$SECRET" | sha256sum; id -u; id -g'  # noqa: S105 - a script


@pytest.mark.parametrize("init", INIT)
def test_hardened_non_root_with_exec_tmpfs(
    docker: Docker, image: str, moto: Moto, secrets: Secrets, init: bool
) -> None:
    """Read-only root, nobody, no capabilities, no-new-privileges and `--tmpfs /tmp:exec` work."""
    options = [*HARDENED, "--user", "65534:65534", "--tmpfs", "/tmp:exec", *HOST]
    env = container_aws_env(moto, SECRET=secrets.env()["SECRET"])
    done = docker.run(image, ["sh", "-c", CHECK_SECRET], env=env, options=options, init=init)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [sha(secrets.s3_value), "65534", "65534"]


@pytest.mark.parametrize("init", INIT)
def test_hardened_non_root_with_tmpdir(
    docker: Docker, image: str, moto: Moto, secrets: Secrets, init: bool
) -> None:
    """As nobody on a read-only root, TMPDIR naming an exec-able tmpfs is enough."""
    options = [*HARDENED, "--user", "65534:65534", "--tmpfs", "/scratch:exec,mode=1777", *HOST]
    env = container_aws_env(moto, SECRET=secrets.env()["SECRET"], TMPDIR="/scratch")
    script = f'{CHECK_SECRET}; echo "TMPDIR=$TMPDIR"'
    done = docker.run(image, ["sh", "-c", script], env=env, options=options, init=init)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [sha(secrets.s3_value), "65534", "65534", "TMPDIR=/scratch"]


@pytest.mark.parametrize("init", INIT)
def test_read_only_root_as_root_needs_nothing(
    docker: Docker, image: str, moto: Moto, secrets: Secrets, init: bool
) -> None:
    """As root, a read-only root with no tmpfs at all works (the bootloader falls back to /dev)."""
    env = container_aws_env(moto, SECRET=secrets.env()["SECRET"])
    done = docker.run(
        image, ["sh", "-c", CHECK_SECRET], env=env, options=[*HARDENED, *HOST], init=init
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [sha(secrets.s3_value), "0", "0"]


@pytest.mark.parametrize("init", INIT)
@pytest.mark.parametrize(
    ("tmpfs", "reason"),
    [
        pytest.param([], "/dev (not writable)", id="no-tmpfs"),
        pytest.param(["--tmpfs", "/tmp"], "/tmp (mounted noexec)", id="noexec-tmpfs"),
    ],
)
def test_read_only_non_root_without_exec_dir_fails_clearly(
    docker: Docker, image: str, tmpfs: list[str], reason: str, init: bool
) -> None:
    """As nobody on a read-only root with no exec-able tmpfs: exit 73, one line, no target."""
    options = [*HARDENED, "--user", "65534:65534", *tmpfs]
    done = docker.run(image, ["sh", "-c", "echo STARTED"], options=options, init=init)
    assert done.returncode == 73, done.stderr
    assert "STARTED" not in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("injector: no usable temporary directory; tried ")
    assert reason in lines[0]
    assert "--tmpfs /tmp:exec" in lines[0]


@pytest.mark.parametrize("init", INIT)
def test_network_none_without_references(docker: Docker, image: str, init: bool) -> None:
    """With nothing to fetch, `--network none` plus every other hardening option just runs."""
    options = [*HARDENED, "--user", "65534:65534", "--tmpfs", "/tmp:exec", "--network", "none"]
    done = docker.run(
        image, ["sh", "-c", 'echo "$KEEP"'], env={"KEEP": "plain"}, options=options, init=init
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "plain\n"


def test_network_none_with_a_reference_fails_closed(
    docker: Docker, image: str, secrets: Secrets
) -> None:
    """A reference that cannot be fetched (no network) is exit 69 and the target never runs."""
    env = {
        "SECRET": secrets.env()["SECRET"],
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "2",
        "INJECTOR_TIMEOUT": "10",
    }
    done = docker.run(image, ["sh", "-c", "echo STARTED"], env=env)
    assert done.returncode == 69, done.stderr
    assert "STARTED" not in done.stdout
    assert failed_event(done.stderr)["exit_code"] == 69


HELPER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
    const char *secret = getenv("SECRET"), *keep = getenv("KEEP");
    printf("len=%zu keep=%s uid=%d\n", secret ? strlen(secret) : 0, keep ? keep : "-",
           (int)getuid());
    return 0;
}
"""


@pytest.fixture(scope="module")
def static_helper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a static C program (musl) for images without a shell or libc."""
    import shutil

    compiler = shutil.which("musl-gcc")
    if compiler is None:
        pytest.fail("musl-gcc is missing (Debian package musl-tools)", pytrace=False)
    work = tmp_path_factory.mktemp("helper")
    (work / "helper.c").write_text(HELPER_C)
    subprocess.run(
        [compiler, "-static", "-O2", "-o", str(work / "helper"), str(work / "helper.c")],
        check=True,
    )
    (work / "helper").chmod(0o755)
    return work / "helper"


@pytest.mark.parametrize("init", INIT)
def test_no_shell_image(  # noqa: PLR0913, PLR0917 - fixtures and parameters
    docker: Docker,
    images: dict[str, str],
    static_helper: Path,
    moto: Moto,
    secrets: Secrets,
    init: bool,
) -> None:
    """In a scratch image (no shell, no libc, no /tmp) on a read-only root the secret arrives."""
    if "scratch" not in images:
        pytest.fail("build-images.sh built no injector-test/scratch image", pytrace=False)
    mount = ["-v", f"{static_helper}:/helper:ro"]
    env = container_aws_env(moto, SECRET=secrets.env()["SECRET"], KEEP="kept")
    done = docker.run(
        images["scratch"], ["/helper"], env=env, options=[*mount, *HARDENED, *HOST], init=init
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"len={len(secrets.s3_value)} keep=kept uid=0\n"

    nobody = [*mount, *HARDENED, "--user", "65534:65534"]
    done = docker.run(images["scratch"], ["/helper"], options=nobody, init=init)
    assert done.returncode == 73, done.stderr
    assert "/tmp (missing)" in done.stderr
    done = docker.run(
        images["scratch"], ["/helper"], options=[*nobody, "--tmpfs", "/tmp:exec"], init=init
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "len=0 keep=- uid=65534\n"


# -- case 7: instance-profile credentials from our IMDSv2 server ----------------------------

IMDS_CREDS = {
    "AccessKeyId": "ASIAE2EIMDSROLE00001",
    "SecretAccessKey": "e2e-imds-role-secret-access-key",
    "Token": "e2e-imds-role-session-token",
}
NETNS_MOTO_PORT = 5000


class NetNs:
    """A `--network none` holder container whose namespace the test populates from the host."""

    def __init__(self, holder: str, pid: int) -> None:
        """Remember the holder container and its PID 1 on the host."""
        self.holder = holder
        self.pid = pid
        self.procs: list[subprocess.Popen[bytes]] = []

    def argv(self, *command: str) -> list[str]:
        """*command* run from the host inside this network namespace only."""
        return ["nsenter", "-t", str(self.pid), "-n", "--", *command]

    def spawn(self, *command: str) -> subprocess.Popen[bytes]:
        """Start a long-lived server in the namespace."""
        proc = subprocess.Popen(
            self.argv(*command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def python(self, code: str) -> None:
        """Run a snippet with the test venv's interpreter inside the namespace."""
        done = subprocess.run(
            self.argv(sys.executable, "-c", code), capture_output=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr.decode()


@pytest.fixture(scope="module")
def imds_netns(
    images: dict[str, str], secrets: Secrets, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NetNs]:
    """Make a network namespace with 169.254.169.254 on loopback, our IMDS server and moto."""
    import uuid

    holder = f"injector-e2e-netns-{uuid.uuid4().hex[:12]}"
    docker_cmd(
        "run",
        "-d",
        "--name",
        holder,
        "--network",
        "none",
        "--entrypoint",
        "sleep",
        images["busybox"],
        "1800",
    )
    ns = None
    try:
        pid = int(docker_cmd("inspect", "--format", "{{.State.Pid}}", holder).stdout)
        ns = NetNs(holder, pid)
        subprocess.run(ns.argv("ip", "addr", "add", "169.254.169.254/32", "dev", "lo"), check=True)
        moto_server = Path(sys.executable).with_name("moto_server")
        ns.spawn(str(moto_server), "-H", "127.0.0.1", "-p", str(NETNS_MOTO_PORT))
        url = f"http://127.0.0.1:{NETNS_MOTO_PORT}"
        ns.python(
            "import time, urllib.request\n"
            "for _ in range(150):\n"
            "    try:\n"
            f"        urllib.request.urlopen('{url}/moto-api/', timeout=1); break\n"
            "    except OSError: time.sleep(0.2)\n"
            "else: raise SystemExit('moto did not start')\n"
            "import boto3\n"
            f"s3 = boto3.client('s3', endpoint_url='{url}', region_name='us-east-1',"
            " aws_access_key_id='seed', aws_secret_access_key='seed')\n"
            f"s3.create_bucket(Bucket='{BUCKET}')\n"
            f"s3.put_object(Bucket='{BUCKET}', Key='app/secret', Body={secrets.s3_value!r})\n"
        )
        creds = tmp_path_factory.mktemp("imds") / "creds.json"
        creds.write_text(json.dumps(IMDS_CREDS))
        imds = ns.spawn(
            sys.executable,
            str(Path(__file__).parents[1] / "support" / "imds.py"),
            "--host",
            "169.254.169.254",
            "--port",
            "80",
            "--creds-json",
            str(creds),
        )
        line = imds.stdout.readline().decode()
        assert line.startswith("ready http://169.254.169.254:80"), line
        yield ns
    finally:
        if ns is not None:
            for proc in ns.procs:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        docker_cmd("rm", "-f", holder, check=False)


def test_instance_profile_credentials(
    docker: Docker, image: str, imds_netns: NetNs, secrets: Secrets
) -> None:
    """With no AWS_* credential variable anywhere, role credentials from IMDSv2 fetch the secret."""
    env = {
        "SECRET": secrets.env()["SECRET"],
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{NETNS_MOTO_PORT}",
        "INJECTOR_TIMEOUT": "20",
    }
    network = ["--network", f"container:{imds_netns.holder}"]
    container = docker.start(image, ["sh", "-c", CHECK_SECRET], env=env, options=network)
    assert container.exit_code() == 0, container.logs()
    out, _err = container.logs()
    assert out.splitlines()[0] == sha(secrets.s3_value)
    names = {item.split("=", 1)[0] for item in container.inspect()["Config"]["Env"]}
    aws = {n for n in names if n.startswith("AWS_")}
    assert aws == {"AWS_ENDPOINT_URL"}, aws

    # Control: the same container without the metadata service has no credentials at all.
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    done = docker.run(image, ["sh", "-c", "echo STARTED"], env=env, options=network)
    assert done.returncode == 77, done.stderr
    assert "STARTED" not in done.stdout


ENV_SIZES = r"""
n=0; bad=""
while [ $n -le 40 ]; do
  vars=""; i=0; while [ $i -lt $n ]; do vars="$vars V$i=x"; i=$((i+1)); done
  env -i $vars /sbin/injector /bin/true 2>/dev/null || bad="$bad n=$n:rc=$?"
  n=$((n+1))
done
echo "bad:$bad"
"""


def test_any_environment_size_starts(docker: Docker, images: dict[str, str]) -> None:
    """The binary starts with 0 to 40 environment variables (the count shifts its heap layout)."""
    done = docker.run(images["busybox"], ["sh", "-c", ENV_SIZES], timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "bad:\n", done.stdout


# -- many secrets: the binary shares the calls with a forked child (injector/split.py) ----

MANY = 30  # S3 objects: one call each, above injector.resolve.SPLIT_FROM (24)


@pytest.fixture(scope="module")
def many_objects(moto: Moto) -> dict[str, str]:
    """MANY S3 objects with random values, by the variable that asks for each."""
    import secrets as rnd

    s3 = moto.client("s3")
    values = {}
    for number in range(MANY):
        value = f"many-{number}-{rnd.token_hex(8)}"
        s3.put_object(Bucket=BUCKET, Key=f"many/{number}", Body=value.encode())
        values[f"M{number:02d}"] = value
    return values


@pytest.mark.parametrize("init", INIT)
def test_many_secrets_through_two_processes(
    docker: Docker, image: str, moto: Moto, many_objects: dict[str, str], init: bool
) -> None:
    """30 references in each image: the binary forks once and every value arrives."""
    refs = {name: f"ref+s3://{BUCKET}/many/{int(name[1:])}" for name in many_objects}
    env = container_aws_env(moto, INJECTOR_LOG_LEVEL="debug", **refs)
    result = docker.run(image, ["env"], env=env, options=HOST, init=init)
    assert result.returncode == 0, result.stderr
    delivered = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert {name: delivered.get(name) for name in many_objects} == many_objects
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [e for e in events if e.get("event") == "fetch_split"], result.stderr
    assert not [value for value in many_objects.values() if value in result.stderr]
