"""The built binary (dist/injector), run from the host: the product as users get it."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import BUCKET, ROOT, Moto, base_env, run

from tests.support import scan_images as si

pytestmark = pytest.mark.binary


@pytest.mark.arm64
def test_version_names_the_build(binary: Path) -> None:
    """--version and `version` print the version, the commit and the build's inputs."""
    for args in (["--version"], ["version"]):
        done = run([binary, *args], base_env())
        assert done.returncode == 0, done.stderr
        out = done.stdout.decode()
        assert out.startswith("injector "), out
        assert "form: static binary" in out
        for key in ("commit:", "source_date_epoch:", "pyinstaller:", "staticx:", "botocore:"):
            assert key in out, out
        assert f"machine: {elf_machine_name(binary)}\n" in out, out
        assert "unknown (not a release build)" not in out


def elf_machine_name(binary: Path) -> str:
    """Return what `uname -m` says on the binary's own architecture."""
    from conftest import EM_AARCH64, elf_machine

    return "aarch64" if elf_machine(binary) == EM_AARCH64 else os.uname().machine


def test_version_commit_is_this_checkout(binary: Path) -> None:
    """The commit printed is a full git hash (the one the binary was built from)."""
    out = run([binary, "version"], base_env()).stdout.decode()
    commit = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("commit"))
    assert len(commit) == 40, out
    int(commit, 16)


def test_help(binary: Path) -> None:
    """--help, -h and `help` print the usage and every option's variable."""
    for args in (["--help"], ["-h"], ["help"]):
        done = run([binary, *args], base_env())
        assert done.returncode == 0, done.stderr
        out = done.stdout.decode()
        assert out.startswith("usage: injector"), out
        assert "INJECTOR_TIMEOUT" in out


def test_no_references_execs_the_target(binary: Path) -> None:
    """With nothing to fetch the target runs with the environment untouched."""
    done = run([binary, "/bin/sh", "-c", 'printf %s "$KEEP"; exit 7'], base_env(KEEP="kept"))
    assert done.returncode == 7, done.stderr
    assert done.stdout == b"kept"


def test_launcher_variables_do_not_leak(binary: Path) -> None:
    """PyInstaller's and staticx's own variables never reach the target."""
    done = run([binary, "env"], base_env())
    assert done.returncode == 0, done.stderr
    names = {line.split(b"=", 1)[0] for line in done.stdout.splitlines()}
    leaked = {n for n in names if n.startswith((b"_PYI", b"STATICX", b"_MEI"))}
    assert not leaked
    assert b"LD_LIBRARY_PATH" not in names
    assert b"TMPDIR" not in names


@pytest.mark.arm64
@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("usage_unknown_option", 64),
        ("usage_no_command", 64),
        ("config_bad_timeout", 78),
        ("target_not_executable", 126),
        ("target_not_found", 127),
    ],
)
def test_exit_codes_without_aws(binary: Path, tmp_path: Path, case: str, code: int) -> None:
    """Usage, configuration and target errors exit with their documented codes."""
    plain = tmp_path / "plain.txt"
    plain.write_text("not a program\n")
    plain.chmod(0o644)
    argv, env = {
        "usage_unknown_option": ([binary, "--no-such-option", "true"], base_env()),
        "usage_no_command": ([binary], base_env()),
        "config_bad_timeout": ([binary, "true"], base_env(INJECTOR_TIMEOUT="soon")),
        "target_not_executable": ([binary, plain], base_env()),
        "target_not_found": ([binary, "/nonexistent/program"], base_env()),
    }[case]
    done = run(argv, env)
    assert done.returncode == code, done.stderr
    assert b'"exit_code": %d' % code in done.stderr or f"exit_code={code}".encode() in done.stderr


@pytest.mark.arm64
def test_exit_65_bad_data(binary: Path, moto: Moto, aws_env: dict[str, str]) -> None:
    """A secret that an environment cannot hold (a NUL byte) exits 65."""
    moto.client("s3").put_object(Bucket=BUCKET, Key="nul", Body=b"a\0b")
    done = run([binary, "true"], {**aws_env, "V": f"ref+s3://{BUCKET}/nul"})
    assert done.returncode == 65, done.stderr
    assert b"a\0b" not in done.stderr


@pytest.mark.arm64
def test_exit_66_not_found(binary: Path, moto: Moto, aws_env: dict[str, str]) -> None:
    """A missing object exits 66 and names the reference."""
    done = run([binary, "true"], {**aws_env, "V": f"ref+s3://{BUCKET}/missing"})
    assert done.returncode == 66, done.stderr
    assert b"missing" in done.stderr


@pytest.mark.arm64
def test_exit_69_unavailable(binary: Path, aws_env: dict[str, str]) -> None:
    """A store that cannot be reached exits 69 within the deadline."""
    from conftest import free_port

    env = {
        **aws_env,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_MAX_ATTEMPTS": "1",
        "INJECTOR_TIMEOUT": "5",
        "V": f"ref+s3://{BUCKET}/x",
    }
    done = run([binary, "true"], env)
    assert done.returncode == 69, done.stderr


@pytest.mark.arm64
def test_exit_77_no_credentials(binary: Path, moto: Moto) -> None:
    """No credentials anywhere exits 77."""
    env = base_env(AWS_ENDPOINT_URL=moto.url, AWS_REGION="us-east-1", V=f"ref+s3://{BUCKET}/x")
    done = run([binary, "true"], env)
    assert done.returncode == 77, done.stderr


@pytest.mark.arm64
def test_s3_secret_reaches_the_target(binary: Path, moto: Moto, aws_env: dict[str, str]) -> None:
    """A secret fetched from S3 on loopback arrives byte for byte; nothing leaks to stderr."""
    value = "pa=ss\nwörd 'q' \"dq\"\n".encode()
    moto.client("s3").put_object(Bucket=BUCKET, Key="app/pw", Body=value)
    env = {
        **aws_env,
        "PW": f"ref+s3://{BUCKET}/app/pw",
        "OTHER": "plain",
        "INJECTOR_LOG_LEVEL": "debug",
    }
    done = run([binary, "env", "-0"], env)
    assert done.returncode == 0, done.stderr
    child = dict(item.split(b"=", 1) for item in done.stdout.split(b"\0") if item)
    assert child[b"PW"] == value
    assert child[b"OTHER"] == b"plain"
    assert value not in done.stderr
    assert b"secrets_injected" in done.stderr


@pytest.mark.arm64
def test_sse_kms_secret_reaches_the_target(
    binary: Path, moto: Moto, aws_env: dict[str, str]
) -> None:
    """An S3 object stored with SSE-KMS (a moto KMS key) arrives decrypted."""
    key = moto.client("kms").create_key()["KeyMetadata"]["KeyId"]
    moto.client("s3").put_object(
        Bucket=BUCKET,
        Key="app/kms",
        Body=b"kms-sealed",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key,
    )
    done = run(
        [binary, "/bin/sh", "-c", 'printf %s "$V"'], {**aws_env, "V": f"ref+s3://{BUCKET}/app/kms"}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"kms-sealed"
    assert b"kms-sealed" not in done.stderr


@pytest.mark.arm64
def test_binary_is_for_its_architecture(binary: Path, request: pytest.FixtureRequest) -> None:
    """dist/injector is this machine's architecture; the arm64 file is aarch64 and runs here."""
    from conftest import EM_AARCH64, elf_machine

    arm64 = request.node.callspec.params.get("binary") == "arm64"
    expected = EM_AARCH64 if arm64 else elf_machine(Path("/bin/sh"))
    assert elf_machine(binary) == expected
    done = run([binary, "/bin/true"], base_env())
    assert done.returncode == 0, done.stderr


def test_tls_ca_bundle_is_frozen_in(binary: Path, moto: Moto, aws_env: dict[str, str]) -> None:
    """Client creation does not need a CA bundle from the host (the binary carries one)."""
    moto.client("s3").put_object(Bucket=BUCKET, Key="ca", Body=b"v")
    env = {**aws_env, "V": f"ref+s3://{BUCKET}/ca", "SSL_CERT_FILE": "/nonexistent"}
    done = run([binary, "true"], env)
    assert done.returncode == 0, done.stderr


def test_path_lookup(binary: Path, tmp_path: Path) -> None:
    """A bare command name is found on PATH, like execvp."""
    tool = tmp_path / "bin" / "my-tool"
    tool.parent.mkdir()
    tool.write_text('#!/bin/sh\necho found "$@"\n')
    tool.chmod(0o755)
    env = base_env(PATH=f"{tool.parent}:/usr/bin:/bin")
    done = run([binary, "my-tool", "x"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"found x\n"


def test_argv0_is_preserved(binary: Path) -> None:
    """The target sees argv exactly as given, argv[0] included (not the resolved path)."""
    done = run([binary, "cat", "/proc/self/cmdline"], base_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"cat\0/proc/self/cmdline\0"


@pytest.mark.arm64
def test_secret_squirrel_name_defaults_the_entrypoint(binary: Path, tmp_path: Path) -> None:
    """Under a name starting with secret_squirrel, the entrypoint defaults to /bin/dockerstart."""
    link = tmp_path / "secret_squirrel_s3"
    link.symlink_to(binary)
    if Path("/bin/dockerstart").exists():
        pytest.skip("this host has a /bin/dockerstart")
    done = run([link, "arg"], base_env())
    assert done.returncode == 127, done.stderr
    assert b"/bin/dockerstart" in done.stderr


@pytest.mark.arm64
def test_secret_squirrel_name_runs_the_entrypoint(binary: Path, tmp_path: Path) -> None:
    """The drop-in passes every argument to the entrypoint and reads no options from argv."""
    copy = tmp_path / "secret_squirrel_s3"
    copy.write_bytes(binary.read_bytes())
    copy.chmod(0o755)
    done = run([copy, "--help", "x"], base_env(INJECTOR_ENTRYPOINT="/bin/echo"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"--help x\n"


@pytest.mark.arm64
def test_copy_writes_an_identical_executable(binary: Path, tmp_path: Path) -> None:
    """`injector copy DEST` copies the outer static binary (mode 0755), into a dir too."""
    dest = tmp_path / "copied"
    done = run([binary, "copy", dest], base_env())
    assert done.returncode == 0, done.stderr
    assert dest.read_bytes() == binary.read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    into = tmp_path / "dir"
    into.mkdir()
    assert run([binary, "copy", into], base_env()).returncode == 0
    assert (into / "injector").read_bytes() == binary.read_bytes()
    again = run([into / "injector", "--version"], base_env())
    assert again.returncode == 0
    assert again.stdout.startswith(b"injector ")


def test_copy_needs_one_destination(binary: Path) -> None:
    """`copy` without DEST is a usage error."""
    assert run([binary, "copy"], base_env()).returncode == 64


def test_runs_on_a_read_only_copy_with_tmpdir_unset(binary: Path, tmp_path: Path) -> None:
    """No TMPDIR, no HOME: the binary still finds somewhere to unpack and execs."""
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(binary), "/bin/sh", "-c", "echo ok"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"ok\n"


def test_binary_is_static(binary: Path) -> None:
    """The file needs no dynamic loader: no PT_INTERP in its ELF header."""
    data = binary.read_bytes()[:4096]
    assert data[:4] == b"\x7fELF"
    assert b"ld-linux" not in data, "dist/injector names a dynamic loader"
    assert os.path.getsize(binary) < 40 * 1024 * 1024
    assert ROOT.is_dir()


def test_every_frozen_service_still_works(
    binary: Path, moto: Moto, aws_env: dict[str, str]
) -> None:
    """The trimmed botocore data still serves SSM, Secrets Manager, KMS and S3 in one run."""
    import base64

    moto.client("ssm").put_parameter(
        Name="/e2e/param", Value="ssm-value", Type="SecureString", Overwrite=True
    )
    sm = moto.client("secretsmanager")
    with contextlib.suppress(sm.exceptions.ResourceExistsException):
        sm.create_secret(Name="e2e/secret", SecretString='{"user":"u","pw":"sm-value"}')
    kms = moto.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"kms-value")["CiphertextBlob"]
    moto.client("s3").put_object(Bucket=BUCKET, Key="svc", Body=b"s3-value")
    env = {
        **aws_env,
        "P": "ref+awsssm://e2e/param",
        "S": "ref+awssecrets://e2e/secret#/pw",
        "K": "ref+awskms://" + base64.b64encode(blob).decode(),
        "O": f"ref+s3://{BUCKET}/svc",
    }
    done = run([binary, "env", "-0"], env)
    assert done.returncode == 0, done.stderr
    child = dict(item.split(b"=", 1) for item in done.stdout.split(b"\0") if item)
    assert child[b"P"] == b"ssm-value"
    assert child[b"S"] == b"sm-value"
    assert child[b"K"] == b"kms-value"
    assert child[b"O"] == b"s3-value"


def test_assume_role_uses_sts(
    binary: Path, moto: Moto, aws_env: dict[str, str], tmp_path: Path
) -> None:
    """A profile with role_arn makes botocore call STS (frozen sts data) before the fetch."""
    moto.client("s3").put_object(Bucket=BUCKET, Key="sts", Body=b"via-role")
    config = tmp_path / "config"
    config.write_text(
        "[profile app]\n"
        "role_arn = arn:aws:iam::123456789012:role/app\n"
        "source_profile = base\n"
        "[profile base]\n"
        "aws_access_key_id = testing\n"
        "aws_secret_access_key = testing\n"
    )
    env = {k: v for k, v in aws_env.items() if not k.startswith("AWS_ACCESS_KEY_ID")}
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    env.update(AWS_CONFIG_FILE=str(config), AWS_PROFILE="app", V=f"ref+s3://{BUCKET}/sts")
    done = run([binary, "/bin/sh", "-c", 'printf %s "$V"'], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"via-role"


def test_shared_libraries_are_written_once(
    binary: Path, moto: Moto, aws_env: dict[str, str], tmp_path: Path
) -> None:
    """OpenSSL and the other extension libraries come from staticx's directory only.

    PyInstaller's directory holds no shared library at all (each would be written twice per
    start; Python itself is linked into the bootloader, packaging/pyinstaller), and a fetch,
    which loads _ssl, _hashlib and pyexpat, still works.
    """
    moto.client("s3").put_object(Bucket=BUCKET, Key="libs", Body=b"v")
    listing = 'find "$TMPDIR" -type f -name "lib*.so*"; printf "V=%s\\n" "$V"'
    env = {**aws_env, "TMPDIR": str(tmp_path), "V": f"ref+s3://{BUCKET}/libs"}
    done = run([binary, "/bin/sh", "-c", listing], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[-1] == "V=v"
    libs = [Path(line) for line in lines[:-1]]
    pyinstaller = [p.name for p in libs if p.parent.name.startswith("_MEI")]
    assert pyinstaller == [], libs
    names = [p.name for p in libs]
    for lib in ("libssl.so.3", "libcrypto.so.3"):
        assert names.count(lib) == 1, libs


def _launcher_sh(binary: Path, tmp_path: Path, script: str) -> str:
    """Run *script* with /bin/sh as the target, the launcher's TMPDIR in *tmp_path*; its stdout."""
    done = run(
        [binary, "/bin/sh", "-c", script], {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_program_is_small_and_its_archive_read_in_place(binary: Path, tmp_path: Path) -> None:
    """The launcher extracts PyInstaller's bootloader and its onedir tree; the PKG stays put.

    The PKG (the modules) is appended to the binary and read in place through
    /proc/<staticx pid>/exe (patch 0008), so the ~7 MB archive is never written to TMPDIR,
    and no libpython is written either (it is linked into the bootloader). The program is
    onedir (patch 0009): the target's parent is the staticx bootloader itself, no
    PyInstaller launcher between them. The scan-only extension modules are not in the tree
    (they are modules of the PYZ, injector/scan/native.py), and botocore's data files are
    embedded in a module (packaging/embed_data.py), not written.
    """
    listing = (
        'b=$(echo "$TMPDIR"/staticx-*); prog=$b/$(readlink "$b/.staticx.prog"); '
        'printf "%s %s %s\n" "$(wc -c <"$prog")" "$(readlink "$prog.pkg")" "$PPID"; '
        "readlink /proc/$PPID/exe; "
        'cd "$b/_internal" && find . -name "*.so*" -o -name "libpython*" -o -name "*.json*" | sort'
    )
    first, parent_exe, *files = _launcher_sh(binary, tmp_path, listing).splitlines()
    size, link, ppid = first.split()
    assert int(size) < 12 * 1024 * 1024, first  # the bootloader with Python, not the ~22 MB program
    assert link == f"/proc/{ppid}/exe", first
    assert Path(parent_exe) == binary.resolve(), parent_exe
    # The scan-only extension modules are in the PYZ (injector._packed), not in the tree;
    # the standard library's are at its top, not in two directories of their own.
    scan_only = ("zstandard", "ahocorasick", "charset_normalizer", "_packed")
    assert not [f for f in files if any(name in f for name in scan_only)], files
    assert "./_json.cpython-311-x86_64-linux-gnu.so" in files, files
    assert not [f for f in files if "lib-dynload" in f], files
    assert not [f for f in files if "libpython" in f], files
    # botocore's data and the trimmed models are embedded (packaging/embed_data.py): no files.
    assert not [f for f in files if ".json" in f], files


def test_launcher_creates_few_entries_and_no_library_links(binary: Path, tmp_path: Path) -> None:
    """Each shared library is one file under its soname (staticx patch 0010); 36 entries in all.

    Creating an entry is what a start pays for on a disk-backed TMPDIR: the only symlinks
    are staticx's two and the bootloader's link to the PKG, and the tree holds no
    directory but _internal/ and certifi/.
    """
    listing = (
        'cd "$(echo "$TMPDIR"/staticx-*)" && find . -type l | sort && echo -- '
        "&& find . -type d | sort && echo -- && find . -type f -name 'lib*' | sort"
        " && echo -- && find . | wc -l"
    )
    links, dirs, libs, count = _launcher_sh(binary, tmp_path, listing).strip().split("--\n")
    assert links.split() == ["./.staticx.interp", "./.staticx.prog", "./injector-onefile.pkg"]
    assert dirs.split() == [".", "./_internal", "./_internal/certifi"]
    for soname in ("./libc.so.6", "./libcrypto.so.3", "./libssl.so.3", "./libz.so.1"):
        assert soname in libs.split(), libs
    real_names = [lib for lib in libs.split() if "." in lib.partition(".so.")[2]]
    assert real_names == [], libs  # libz.so.1.2.13 and the like: what a soname links to
    assert int(count) <= 36, count


def test_scan_loads_the_packed_extension_modules(binary: Path, tmp_path: Path) -> None:
    """A scan of a zstd OCI archive works frozen: zstandard, pyahocorasick, charset_normalizer."""
    token = si.github_token()
    image = si.Image([si.Layer({"/app/.env": f"GITHUB_TOKEN={token}\n".encode()})])
    archive = si.write_oci_archive(image, tmp_path / "image.tar", "zstd")
    env = base_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = run([binary, "scan", f"oci-archive:{archive}", "--format", "json", "--no-cache"], env)
    assert b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
    assert token.encode() not in done.stdout + done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [f for f in findings if f["rule"] == "github-token"], findings
    assert done.returncode == 1, done.stderr.decode()  # a high finding: the documented exit
