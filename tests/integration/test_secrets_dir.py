"""The secrets directory is opened once, without symlinks, and checked on its descriptor.

Regression tests for finding b of issue 12: a directory swapped for a symlink to disk while
injector runs, a pre-created directory another user owns or may write, and cleanup that
must follow the descriptor rather than the path. The swapping attacker is a real process
(``renameat2(RENAME_EXCHANGE)`` in a loop), as another uid where the test runs as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from injector import files
from injector.config import Config
from injector.errors import ConfigError
from injector.secret import Secret
from tests.support import runner

pytestmark = pytest.mark.security
ATTACKER = 4242
RUNS = 2000  # the review's attack won on run 27; the old code loses about 1 run in 300 here
SWAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.fsencode(p) for p in sys.argv[1:3])
print("ready", flush=True)
while True:
    libc.renameat2(-100, a, -100, b, 2)  # AT_FDCWD, RENAME_EXCHANGE
"""


@pytest.fixture
def base():
    """Give a fresh directory under /dev/shm (mode 0700), removed afterwards."""
    path = Path("/dev/shm") / f"injector-dir-{uuid.uuid4().hex}"
    path.mkdir(mode=0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def disk(tmp_path):
    """Give an empty directory on a disk file system (the test's tmp_path)."""
    if files.filesystem(str(tmp_path)) in files.MEMORY_FILESYSTEMS:
        pytest.skip("the test's tmp_path is itself a tmpfs here")
    path = tmp_path / "disk"
    path.mkdir()
    return path


def _swapper(first: Path, second: Path, uid: int | None) -> subprocess.Popen[bytes]:
    """Start a process exchanging *first* and *second* as fast as it can (as *uid*)."""
    extra = {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}
    proc = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(first), str(second)],
        stdout=subprocess.PIPE,
        cwd="/",
        **extra,  # type: ignore[arg-type]
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


@pytest.mark.parametrize("attacker", ["same-uid", "other-uid"])
def test_directory_swapped_for_a_disk_symlink_never_gets_a_file_on_disk(
    base: Path, disk: Path, attacker: str
) -> None:
    """A directory raced against a symlink to disk (RENAME_EXCHANGE) never gets a file on disk.

    Over 2000 deliveries each either writes onto the tmpfs or is refused (78).
    """
    uid = None
    if attacker == "other-uid":
        if os.geteuid() != 0:
            pytest.skip("a second uid needs root")
        uid = ATTACKER
        os.chown(base, ATTACKER, ATTACKER)
        base.chmod(0o755)
    real, link = base / "secrets", base / "swap"
    real.mkdir(mode=0o700)
    link.symlink_to(disk)
    if uid is not None:
        os.chown(real, ATTACKER, ATTACKER)
        os.lchown(link, ATTACKER, ATTACKER)
    real_fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY)
    swapper = _swapper(real, link, uid)
    config = Config(secrets_dir=str(real))
    wanted = {"A_FILE": Secret(b"race-secret-value")}
    written = refused = 0
    codes: set[int] = set()
    delivered = None
    try:
        for _ in range(RUNS):
            try:
                delivered = files.deliver(wanted, config)
                written += 1
            except ConfigError as err:
                codes.add(err.exit_code)
                refused += 1
            assert list(disk.iterdir()) == [], "a secret file reached the disk"
            if delivered is not None:
                delivered.remove()
                delivered = None
            for name in os.listdir(real_fd):
                os.unlink(name, dir_fd=real_fd)
    finally:
        swapper.send_signal(signal.SIGKILL)
        swapper.wait()
        os.close(real_fd)
    assert written + refused == RUNS
    assert codes <= {78}
    if uid is None:
        assert written > 0, "the race never let a start through: the test proved nothing"
    else:
        assert written == 0, "a directory under another user's directory was accepted"


@pytest.fixture
def ssm(moto):
    """Store one SSM parameter for the end-to-end runs."""
    moto.client("ssm").put_parameter(Name="/d/a", Value="dir-secret-a", Type="SecureString")


def _start(aws_env: dict[str, str], directory: Path) -> runner.Run:
    env = {
        **aws_env,
        "PATH": os.environ["PATH"],
        "A_FILE": "ref+awsssm://d/a",
        "INJECTOR_SECRETS_DIR": str(directory),
    }
    return runner.run(env, "true")


def test_foreign_world_writable_directory_refused(aws_env, ssm, base: Path) -> None:
    """A pre-created 0777 directory owned by another user is 78, one line naming it."""
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    foreign = base / "foreign"
    foreign.mkdir()
    foreign.chmod(0o777)
    os.chown(foreign, ATTACKER, ATTACKER)
    result = _start(aws_env, foreign)
    assert result.code == 78, result.err
    assert len(result.err.strip().splitlines()) == 1
    event = result.events()[-1]
    assert event["event"] == "failed"
    assert str(foreign) in event["error"]
    assert f"owned by uid {ATTACKER}" in event["error"]
    assert list(foreign.iterdir()) == []


@pytest.mark.parametrize("owner", [0, None])
def test_directory_writable_by_others_refused(base: Path, owner: int | None) -> None:
    """A directory that group or others may write is refused (78) by preflight and delivery."""
    shared = base / "shared"
    shared.mkdir()
    shared.chmod(0o770)
    if owner is not None and os.geteuid() == 0:
        os.chown(shared, owner, owner)
    config = Config(secrets_dir=str(shared))
    for attempt in (
        lambda: files.preflight(config),
        lambda: files.deliver({"A_FILE": Secret(b"v-value")}, config),
    ):
        with pytest.raises(ConfigError, match="writable by group or others") as caught:
            attempt()
        assert caught.value.exit_code == 78
        assert str(shared) in caught.value.message
    assert list(shared.iterdir()) == []


def test_parent_writable_by_others_refused_unless_sticky_root(base: Path) -> None:
    """A parent others may write is refused, unless root's and sticky (like /dev/shm)."""
    base.chmod(0o777)
    config = Config(secrets_dir=str(base / "secrets"))
    with pytest.raises(ConfigError, match=f"{base} is writable by group or others"):
        files.preflight(config)
    if os.geteuid() == 0:
        base.chmod(0o1777)
        written = files.deliver({"A_FILE": Secret(b"v-value")}, config)
        assert Path(written.paths["A_FILE"]).read_bytes() == b"v-value"
        written.remove()


def test_parent_owned_by_another_user_refused(base: Path) -> None:
    """A directory above the secrets directory owned by another uid is refused (78)."""
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    os.chown(base, ATTACKER, ATTACKER)
    with pytest.raises(ConfigError, match=f"{base} is owned by uid {ATTACKER}"):
        files.preflight(Config(secrets_dir=str(base / "secrets")))


def test_directory_owned_by_the_file_owner_accepted(base: Path) -> None:
    """A tmpfs mounted for the program's own uid (INJECTOR_FILE_OWNER) is accepted."""
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    mine = base / "mine"
    mine.mkdir(mode=0o700)
    os.chown(mine, ATTACKER, ATTACKER)
    config = Config(secrets_dir=str(mine), file_owner=(ATTACKER, ATTACKER))
    written = files.deliver({"A_FILE": Secret(b"v-value")}, config)
    assert Path(written.paths["A_FILE"]).stat().st_uid == ATTACKER
    written.remove()


def test_cleanup_follows_the_descriptor_not_the_path(base: Path, monkeypatch) -> None:
    """A failed delivery removes its files from the directory itself, even if it was moved."""
    target, moved = base / "secrets", base / "moved"
    real_fill = files._fill
    calls: list[int] = []

    def fill_then_fail(fd: int, data: bytes, config: Config) -> None:
        calls.append(fd)
        if len(calls) == 2:
            target.rename(moved)
            os.close(fd)
            raise ConfigError("cannot write secret file: No space left on device")
        real_fill(fd, data, config)

    monkeypatch.setattr(files, "_fill", fill_then_fail)
    contents = {"A_FILE": Secret(b"a-value"), "B_FILE": Secret(b"b-value")}
    with pytest.raises(ConfigError, match="No space"):
        files.deliver(contents, Config(secrets_dir=str(target)))
    assert list(moved.iterdir()) == []


def test_successful_file_delivery_is_silent(aws_env, ssm, base: Path) -> None:
    """A start that writes a *_FILE secret logs nothing at the default level (README)."""
    result = _start(aws_env, base / "secrets")
    assert (result.code, result.stderr) == (0, b"")
