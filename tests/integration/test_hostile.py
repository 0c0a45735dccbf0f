"""Hostile and malformed input end to end: odd names, odd values, odd env-files, odd paths.

(The parsers' property-based tests are in tests/unit/test_properties.py.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import runner

pytestmark = pytest.mark.security
BUCKET = "hostile"
MIB = 1024 * 1024
SIZE_OF = 'import os, sys; sys.stdout.write(str(os.path.getsize(os.environ["BIG_FILE"])))'


def env_for(aws_env, **extra: str) -> dict[str, str]:
    """Return the subprocess environment with PATH and *extra*."""
    return {**aws_env, "PATH": os.environ["PATH"], **extra}


def start(aws_env, extra: dict[str, str]) -> runner.Run:
    """Run injector with ``env -0`` as the target."""
    return runner.run(env_for(aws_env, **extra), "env", "-0", target_prints=True)


def refused(aws_env, extra: dict[str, str], tmp_path: Path, code: int) -> runner.Run:
    """Run injector; assert exit *code*, a final ``failed`` line, and the target never ran."""
    marker = tmp_path / "ran"
    result = runner.run(env_for(aws_env, **extra), "touch", str(marker))
    assert result.code == code, result.err
    assert not marker.exists()
    assert result.events()[-1]["event"] == "failed"
    assert "Traceback" not in result.err
    return result


def test_names_that_are_not_identifiers(aws_env, seed) -> None:
    """Names with dashes, dots, spaces, leading digits or non-ASCII get their values too."""
    ref = seed.object(BUCKET, "k", "odd-name-value")
    names = ["WITH-DASH", "with.dot", "with space", "1DIGIT", "ÜNÏCODE", "a:b"]
    env = start(aws_env, dict.fromkeys(names, ref)).child_env()
    assert {name: env[name.encode()] for name in names} == dict.fromkeys(names, b"odd-name-value")


def test_env_file_cannot_override_existing_or_explicit(aws_env, seed) -> None:
    """Env-file pairs named like existing variables (PATH, HOME) or explicit references lose."""
    explicit = seed.object(BUCKET, "explicit", "explicit-value")
    envfile = seed.object(
        BUCKET, "env", "PATH=/evil\nHOME=/evil\nX=from-file\nNEW=new-one\n", create=False
    )
    env = start(aws_env, {"INJECTOR_ENV_FILES": envfile, "X": explicit}).child_env()
    assert env[b"PATH"] == os.environ["PATH"].encode()
    assert env[b"HOME"] == aws_env["HOME"].encode()
    assert env[b"X"] == b"explicit-value"
    assert env[b"NEW"] == b"new-one"


def test_zero_byte_value(aws_env, seed) -> None:
    """An empty object gives a variable that is set and empty."""
    env = start(aws_env, {"E": seed.object(BUCKET, "empty", b"")}).child_env()
    assert env[b"E"] == b""


def test_one_mib_value_is_65_as_variable_and_fine_as_file(aws_env, seed, tmp_path, shm_dir):
    """1 MiB cannot be an environment string (65, with the *_FILE hint) but is fine as a file."""
    ref = seed.object(BUCKET, "big", os.urandom(MIB // 2).hex().encode())
    result = refused(aws_env, {"BIG": ref}, tmp_path, 65)
    failed = result.events()[-1]
    assert "BIG" in failed["error"]
    assert "*_FILE" in failed["error"]
    extra = {"BIG_FILE": ref, "INJECTOR_SECRETS_DIR": str(shm_dir)}
    done = runner.run(env_for(aws_env, **extra), "python3", "-c", SIZE_OF)
    assert (done.code, done.stdout) == (0, str(MIB).encode()), done.err


def test_nul_byte_value_is_65_naming_the_variable(aws_env, seed, tmp_path) -> None:
    """A value with a NUL byte cannot be a variable: 65 naming it, target not run."""
    ref = seed.object(BUCKET, "nul", b"before\x00after-nul")
    result = refused(aws_env, {"NULVAR": ref}, tmp_path, 65)
    assert "NULVAR" in result.events()[-1]["error"]


def test_invalid_utf8_value_is_delivered_byte_exact(aws_env, seed) -> None:
    """Invalid UTF-8 in a value is handed over byte for byte."""
    value = b"\xff\xfe\xc3(latin-\xe9-bytes"
    env = start(aws_env, {"B": seed.object(BUCKET, "bin", value)}).child_env()
    assert env[b"B"] == value


def test_invalid_utf8_env_file_is_65(aws_env, seed, tmp_path) -> None:
    """An env-file that is not UTF-8 is 65 naming the env-file, not its content."""
    ref = seed.object(BUCKET, "bad.env", b"A=ok-value\nB=\xff\xfe-broken\n")
    result = refused(aws_env, {"INJECTOR_ENV_FILES": ref}, tmp_path, 65)
    assert result.events()[-1]["error"] == "env-file is not valid UTF-8"


def test_crlf_and_bom_env_file(aws_env, seed) -> None:
    """A CRLF env-file with a UTF-8 BOM gives clean names and values (no CR, no BOM)."""
    ref = seed.object(BUCKET, "win.env", "\ufeffFIRST=one-value\r\nSECOND='two value'\r\n")
    env = start(aws_env, {"INJECTOR_ENV_FILES": ref}).child_env()
    assert (env[b"FIRST"], env[b"SECOND"]) == (b"one-value", b"two value")
    assert not any(b"\xef\xbb\xbf" in name for name in env)


def test_ten_thousand_line_env_file(aws_env, seed) -> None:
    """A 10,000-line env-file becomes 10,000 variables."""
    body = "".join(f"V{i}=line-value-{i}\n" for i in range(10_000))
    env = start(aws_env, {"INJECTOR_ENV_FILES": seed.object(BUCKET, "big.env", body)}).child_env()
    assert sum(name.startswith(b"V") for name in env) == 10_000
    assert env[b"V9999"] == b"line-value-9999"


@pytest.mark.parametrize("name", ["../../escape_FILE", "A/B_FILE", ".._FILE", "X..Y_FILE"])
def test_path_traversal_in_file_names(aws_env, seed, tmp_path, shm_dir, name) -> None:
    """A *_FILE name that would leave the secrets directory is 78; nothing is written."""
    ref = seed.object(BUCKET, "t", "traversal-value")
    shm_dir.mkdir()
    inner = shm_dir / "inner"
    result = refused(aws_env, {name: ref, "INJECTOR_SECRETS_DIR": str(inner)}, tmp_path, 78)
    assert "cannot name a file" in result.events()[-1]["error"]
    assert sorted(shm_dir.rglob("*")) == []


def test_symlinked_secrets_directory_refused(aws_env, seed, tmp_path, shm_dir) -> None:
    """A secrets directory that is a symlink (even to a tmpfs) is 78; nothing lands behind it."""
    ref = seed.object(BUCKET, "s", "symlink-value")
    shm_dir.mkdir()
    real = shm_dir / "real"
    real.mkdir()
    link = shm_dir / "link"
    link.symlink_to(real)
    result = refused(aws_env, {"S_FILE": ref, "INJECTOR_SECRETS_DIR": str(link)}, tmp_path, 78)
    assert "not a directory" in result.events()[-1]["error"]
    assert list(real.iterdir()) == []


def test_symlinked_parent_to_disk_refused(aws_env, seed, tmp_path, shm_dir) -> None:
    """A secrets directory under a symlink (here to disk) is refused before any fetch (78)."""
    from injector import files

    if files.filesystem(str(tmp_path)) in files.MEMORY_FILESYSTEMS:
        pytest.skip("the test's tmp_path is itself a tmpfs here")
    ref = seed.object(BUCKET, "s", "symlink-value")
    disk = tmp_path / "disk"
    disk.mkdir()
    shm_dir.mkdir()
    (shm_dir / "link").symlink_to(disk)
    extra = {"S_FILE": ref, "INJECTOR_SECRETS_DIR": str(shm_dir / "link" / "secrets")}
    result = refused(aws_env, extra, tmp_path, 78)
    assert "link is a symlink" in result.events()[-1]["error"]
    assert list(disk.iterdir()) == []


def test_references_inside_values_are_not_resolved(aws_env, seed, proxy) -> None:
    """A reference inside an env-file value or a fetched value stays literal text (README)."""
    seed.object(BUCKET, "other", "must-not-be-fetched")
    inner = f"ref+s3://{BUCKET}/other"
    envfile = seed.object(BUCKET, "refs.env", f"NESTED={inner}\n", create=False)
    value = seed.object(BUCKET, "points", inner, create=False)
    extra = {"INJECTOR_ENV_FILES": envfile, "V": value, "AWS_ENDPOINT_URL": proxy.url}
    env = start(aws_env, extra).child_env()
    assert env[b"NESTED"] == env[b"V"] == inner.encode()
    assert proxy.count("GetObject") == 2
