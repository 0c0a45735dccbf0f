"""Delivery to files (``*_FILE``): tmpfs only, mode, owner, NUL bytes, all or nothing."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from injector import files, plan
from injector.config import Config
from injector.errors import ConfigError
from injector.secret import Secret
from tests.support import runner

pytestmark = pytest.mark.integration


def _deliver(environ: dict[str, str], values: dict[str, bytes], config: Config):
    the_plan = plan.build(environ, config)
    wanted = {d.variable: Secret(values[d.variable]) for d in the_plan.deliveries if d.to_file}
    return files.deliver(wanted, config)


def test_files_written_with_mode_and_content(shm_dir) -> None:
    """Each *_FILE secret becomes a new file named after the variable, byte-exact, mode 0440."""
    config = Config(secrets_dir=str(shm_dir), file_mode=0o440)
    value = b"bin\x00ary\xff\n"
    written = _deliver({"PW_FILE": "ref+s3://b/k"}, {"PW_FILE": value}, config)
    path = Path(written.paths["PW_FILE"])
    assert path == shm_dir / "PW"
    assert path.read_bytes() == value
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    assert stat.S_IMODE(shm_dir.stat().st_mode) == 0o700


def test_owner_applied_to_files_and_directory(shm_dir) -> None:
    """INJECTOR_FILE_OWNER gives the files and the created directory to uid:gid."""
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    config = Config(secrets_dir=str(shm_dir), file_owner=(4321, 8765))
    written = _deliver({"A_FILE": "ref+s3://b/k"}, {"A_FILE": b"v"}, config)
    info = Path(written.paths["A_FILE"]).stat()
    assert (info.st_uid, info.st_gid) == (4321, 8765)
    assert (shm_dir.stat().st_uid, shm_dir.stat().st_gid) == (4321, 8765)


def test_disk_directory_refused_unless_allowed(tmp_path) -> None:
    """A disk-backed directory is a config error (78); INJECTOR_ALLOW_DISK accepts it."""
    if files.filesystem(str(tmp_path)) in files.MEMORY_FILESYSTEMS:
        pytest.skip("the test's tmp_path is itself a tmpfs here")
    target = tmp_path / "secrets"
    with pytest.raises(ConfigError, match="not tmpfs") as caught:
        files.preflight(Config(secrets_dir=str(target)))
    assert caught.value.exit_code == 78
    written = _deliver(
        {"A_FILE": "ref+s3://b/k"},
        {"A_FILE": b"v"},
        Config(secrets_dir=str(target), allow_disk=True),
    )
    assert Path(written.paths["A_FILE"]).read_bytes() == b"v"


def test_existing_directory_must_be_empty(shm_dir) -> None:
    """An existing secrets directory is used as is only when it is empty."""
    shm_dir.mkdir()
    (shm_dir / "other").write_bytes(b"x")
    with pytest.raises(ConfigError, match="not empty"):
        _deliver({"A_FILE": "ref+s3://b/k"}, {"A_FILE": b"v"}, Config(secrets_dir=str(shm_dir)))
    assert sorted(p.name for p in shm_dir.iterdir()) == ["other"]


def test_failure_removes_every_file_written(shm_dir, monkeypatch) -> None:
    """When a later file cannot be written, the earlier ones and the directory are removed."""
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    environ = {"A_FILE": "ref+s3://b/a", "B_FILE": "ref+s3://b/b"}
    with pytest.raises(ConfigError, match="No space"):
        _deliver(environ, {"A_FILE": b"a", "B_FILE": b"b"}, Config(secrets_dir=str(shm_dir)))
    assert not shm_dir.exists()


def test_symlink_in_place_is_not_followed(shm_dir) -> None:
    """A pre-existing symlink where a secret file goes is refused, never written through."""
    place = files.open_directory(Config(secrets_dir=str(shm_dir)), create=True)
    target = shm_dir / "elsewhere"
    (shm_dir / "A").symlink_to(target)
    with pytest.raises(ConfigError, match="cannot create"):
        files._create(place, "A")
    place.close()
    assert not target.exists()


@pytest.mark.parametrize("name", ["A/B_FILE", "../X_FILE", "A..B_FILE", ".._FILE"])
def test_path_like_names_refused(name: str) -> None:
    """Variable names that would leave the directory are refused."""
    with pytest.raises(ConfigError):
        files.file_name(name)


def test_filesystem_detection() -> None:
    """/dev/shm is recognised as a tmpfs."""
    assert files.filesystem("/dev/shm") == "tmpfs"


def run(aws_env, extra, *command):
    """Run ``python -m injector COMMAND`` with the AWS environment plus *extra*."""
    env = {**aws_env, "PATH": os.environ["PATH"], **extra}
    return runner.run(env, *command, target_prints=PRINT in command)


@pytest.fixture
def ssm(moto):
    """Return an SSM client on the moto server, with two parameters stored."""
    client = moto.client("ssm")
    client.put_parameter(Name="/f/a", Value="file-secret-a\n", Type="SecureString")
    client.put_parameter(Name="/f/b", Value="file-secret-b", Type="SecureString")
    return client


PRINT = (
    'import os, stat, sys; p = os.environ["A_FILE"]; s = os.stat(p); '
    'sys.stdout.write(f"{p}|{stat.S_IMODE(s.st_mode):o}|{s.st_uid}:{s.st_gid}|"); '
    'sys.stdout.flush(); os.write(1, open(p, "rb").read())'
)


def test_exec_delivers_file_path_not_value(aws_env, ssm, shm_dir) -> None:
    """The target sees A_FILE=path (mode 0400, the owner asked for) and the exact bytes in it."""
    extra = {
        "A_FILE": "ref+awsssm://f/a",
        "INJECTOR_SECRETS_DIR": str(shm_dir),
        "INJECTOR_FILE_OWNER": f"{os.getuid()}:{os.getgid()}",
    }
    proc = run(aws_env, extra, sys.executable, "-c", PRINT)
    assert proc.returncode == 0, proc.stderr.decode()
    path, mode, owner, content = proc.stdout.split(b"|", 3)
    assert path == str(shm_dir / "A").encode()
    assert (mode, owner) == (b"400", f"{os.getuid()}:{os.getgid()}".encode())
    assert content == b"file-secret-a\n"
    assert b"file-secret-a" not in proc.stderr


def test_secret_with_nul_bytes_goes_to_a_file(aws_env, moto, shm_dir) -> None:
    """A binary secret with NUL bytes cannot be a variable but is fine as a file."""
    moto.client("secretsmanager").create_secret(Name="blob", SecretBinary=b"\x00\x01nul\x00")
    extra = {"A_FILE": "ref+awssecrets://blob", "INJECTOR_SECRETS_DIR": str(shm_dir)}
    proc = run(aws_env, extra, sys.executable, "-c", PRINT)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.split(b"|", 3)[3] == b"\x00\x01nul\x00"


def test_disk_dir_refused_before_any_fetch(aws_env, ssm, proxy, tmp_path) -> None:
    """A disk-backed INJECTOR_SECRETS_DIR is exit 78 before any request; nothing is written."""
    target = tmp_path / "secrets"
    extra = {
        "A_FILE": "ref+awsssm://f/a",
        "INJECTOR_SECRETS_DIR": str(target),
        "AWS_ENDPOINT_URL": proxy.url,
    }
    proc = run(aws_env, extra, "true")
    assert proc.returncode == 78
    assert "INJECTOR_ALLOW_DISK" in proc.stderr.decode()
    assert not target.exists()
    assert proxy.operations() == []


def test_no_leftovers_when_the_start_fails(aws_env, moto, ssm, shm_dir) -> None:
    """If delivery fails after files were written, the files and the directory are gone."""
    moto.client("secretsmanager").create_secret(Name="nul-env", SecretBinary=b"has\x00nul")
    extra = {
        "A_FILE": "ref+awsssm://f/a",
        "B_FILE": "ref+awsssm://f/b",
        "ENV": "ref+awssecrets://nul-env",
        "INJECTOR_SECRETS_DIR": str(shm_dir),
    }
    proc = run(aws_env, extra, "true")
    assert proc.returncode == 65
    assert not shm_dir.exists()


def test_missing_secret_writes_nothing(aws_env, ssm, shm_dir) -> None:
    """A missing secret fails the start (66) before any file is written."""
    extra = {
        "A_FILE": "ref+awsssm://f/a",
        "B_FILE": "ref+awsssm://f/none",
        "INJECTOR_SECRETS_DIR": str(shm_dir),
    }
    assert run(aws_env, extra, "true").returncode == 66
    assert not shm_dir.exists()
