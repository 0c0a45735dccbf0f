"""No read of a file the user names can hang or buffer past the cap (finding e of issue 12).

``inputs.read`` on real FIFOs, devices, directories and pipes; then ``put`` end to end, which
waited forever on a FIFO nobody writes before.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time

import pytest

from injector import inputs
from injector.deadline import Deadline
from injector.errors import BadDataError, ConfigError, UnavailableError
from tests.support import runner

pytestmark = pytest.mark.security


@pytest.fixture
def fifo(tmp_path):
    """Give a FIFO that nobody writes."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.fixture
def stdin_pipe(monkeypatch):
    """Make inputs read 'stdin' from a pipe; yield its write end (closed afterwards)."""
    read_end, write_end = os.pipe()
    monkeypatch.setattr(inputs, "STDIN", read_end)
    yield write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):  # the test may have closed the write end
            os.close(fd)


def _read(path, limit=1024, seconds=5.0, label="--from-file"):
    return inputs.read(path, limit=limit, deadline=Deadline(seconds), label=label)


@pytest.mark.parametrize(
    ("name", "kind"), [("fifo", "a FIFO"), ("dev", "a character device"), ("dir", "a directory")]
)
def test_a_named_path_that_is_not_a_regular_file_is_refused(fifo, tmp_path, name, kind) -> None:
    """A FIFO (nobody writing), a device or a directory is 78 naming the path, at once."""
    path = {"fifo": str(fifo), "dev": "/dev/zero", "dir": str(tmp_path)}[name]
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        _read(path)
    assert time.monotonic() - started < 2
    assert caught.value.exit_code == 78
    assert (
        caught.value.message == f"--from-file {path} is {kind}, not a regular file "
        "(pipe other input on stdin)"
    )


def test_a_regular_file_is_read_whole(tmp_path) -> None:
    """A regular file up to the cap is returned byte-exact."""
    path = tmp_path / "value"
    path.write_bytes(b"v\x00" * 512)
    assert _read(str(path), limit=1024) == b"v\x00" * 512


def test_over_the_cap_is_65_without_buffering_past_it(tmp_path, monkeypatch) -> None:
    """A file above the cap is 65 naming it; no read asks for more than cap + 1 bytes."""
    path = tmp_path / "big"
    path.write_bytes(b"x" * 10_000)
    asked: list[int] = []
    real_read = os.read

    def counting_read(fd: int, size: int) -> bytes:
        asked.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(inputs.os, "read", counting_read)
    with pytest.raises(BadDataError, match="larger than INJECTOR_MAX_SECRET_BYTES") as caught:
        _read(str(path), limit=100)
    assert caught.value.exit_code == 65
    assert sum(asked) <= 101


def test_a_stdin_nobody_writes_ends_at_the_deadline(stdin_pipe) -> None:
    """Stdin that stays open and silent is 69 at the deadline, not a hang."""
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="deadline") as caught:
        _read(None, seconds=0.5)
    assert 0.4 < time.monotonic() - started < 3
    assert caught.value.reference == "stdin"


def test_stdin_is_read_until_end_of_file(stdin_pipe) -> None:
    """Stdin (a pipe here) is read until its writer closes it."""
    os.write(stdin_pipe, b"piped-value\n")
    os.close(stdin_pipe)
    assert _read(None) == b"piped-value\n"


def test_stdin_over_the_cap_is_65(stdin_pipe) -> None:
    """More than the cap on stdin is 65."""
    os.write(stdin_pipe, b"y" * 200)
    os.close(stdin_pipe)
    with pytest.raises(BadDataError, match="stdin is larger"):
        _read(None, limit=100)


def test_put_from_a_fifo_nobody_writes_is_78_at_once(fifo) -> None:
    """``put --from-file FIFO`` is refused at once (it waited forever before)."""
    env = {"PATH": os.environ["PATH"], "AWS_EC2_METADATA_DISABLED": "true"}
    result = runner.run(env, "put", "ref+awsssm://p", "--from-file", str(fifo), timeout=20)
    assert result.code == 78, result.err
    assert f"--from-file {fifo} is a FIFO" in result.events()[-1]["error"]


def test_put_with_a_silent_stdin_is_69_at_the_deadline(fifo) -> None:
    """``put`` with a stdin that is open but never written ends at INJECTOR_TIMEOUT (69)."""
    env = {"PATH": os.environ["PATH"], "AWS_EC2_METADATA_DISABLED": "true", "INJECTOR_TIMEOUT": "1"}
    holder = os.open(fifo, os.O_RDWR)  # keeps a writer, so reading waits and never ends
    try:
        with open(fifo, "rb") as stdin:
            argv = runner.command(["put", "ref+awsssm://p"])
            proc = subprocess.run(
                argv,
                env=runner.environment(env),
                stdin=stdin,
                capture_output=True,
                timeout=20,
                check=False,
            )
    finally:
        os.close(holder)
    assert proc.returncode == 69, proc.stderr.decode()
    assert b"deadline" in proc.stderr
