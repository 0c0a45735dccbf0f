"""No value in injector's output at any log level or format, in any error path; no core dumps.

Every integration test is already checked by the autouse ``no_leaks`` fixture (conftest.py);
these tests add the log-level/format matrix, the error paths and the process protections.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.support import runner

pytestmark = pytest.mark.security
BUCKET = "leaks"
CONFIGS = [("debug", "json"), ("debug", "console"), ("info", "console")]
SECRET_JSON = '{"password": "json-field-secret-1", "n": 1}'  # noqa: S105 - test data
ENV_FILE = "USER=env-user-value\nPASSWORD='env-file-secret-2'\nBROKEN=\"unterminated-secret-3\n"
HOLD = 3.0  # seconds the proxy holds GetObject, so the fetching injector can be inspected


@pytest.fixture
def refs(seed) -> dict[str, str]:
    """Secrets in every store, an env-file, a JSON document and a NUL-carrying value."""
    key = seed.kms_key()
    return {
        "S3": seed.object(BUCKET, "plain", "s3-plain-secret-value\nsecond-line-secret\n"),
        "SSM": seed.parameter("/leaks/p", "ssm-secret-value-x") and "ref+awsssm://leaks/p",
        "SM": f"ref+awssecrets://{seed.json_secret('leaks/json', {'k': 'sm-json-secret-y'})}",
        "KMS": f"ref+awskms://{seed.kms_encrypt('kms-plaintext-secret-z', key)}",
        "JSON": seed.object(BUCKET, "doc.json", SECRET_JSON, create=False),
        "ENVFILE": seed.object(BUCKET, "ok.env", ENV_FILE.rsplit("BROKEN", 1)[0], create=False),
        "BADENV": seed.object(BUCKET, "bad.env", ENV_FILE, create=False),
        "NUL": seed.object(BUCKET, "nul", b"nul-secret-\x00-tail-secret", create=False),
    }


def test_leak_check_sees_a_printed_value() -> None:
    """The leak check flags a value on stdout unless the target printed it on purpose."""
    shown = runner.Run(["x"], 0, b"out s3cret-value", b"err", 0.0)
    exempt = runner.Run(["x"], 0, b"out s3cret-value", b"err", 0.0, target_prints=True)
    in_stderr = runner.Run(["x"], 1, b"", b'{"error": "s3cret-value"}', 0.0, target_prints=True)
    found = runner.leaks({b"s3cret-value"}, [shown, exempt, in_stderr])
    assert [f.split(" in the ")[1].split()[0] for f in found] == ["stdout", "stderr"]


@pytest.mark.parametrize(("level", "fmt"), CONFIGS)
def test_no_value_at_any_level_or_format(aws_env, refs, tmp_path, level, fmt) -> None:
    """Success and every kind of failure, at debug level and in console format, show no value."""
    base = {
        **aws_env,
        "PATH": os.environ["PATH"],
        "INJECTOR_LOG_LEVEL": level,
        "INJECTOR_LOG_FORMAT": fmt,
    }
    good = {name: refs[name] for name in ("S3", "SSM", "SM", "KMS")}
    good["INJECTOR_ENV_FILES"] = refs["ENVFILE"]
    ok = runner.run({**base, **good}, "true")
    assert ok.code == 0, ok.err
    assert ("secrets_injected" in ok.err) == (level == "debug")  # success is silent at info
    marker = tmp_path / "ran"
    failures = {
        65: [
            {"P": refs["JSON"] + "#/nothing/here"},
            {"N": refs["NUL"]},
            {"INJECTOR_ENV_FILES": refs["BADENV"]},
            {"J": refs["JSON"] + "#/n/deeper"},
        ],
        66: [{**good, "GONE": f"ref+s3://{BUCKET}/gone"}],
        69: [{**good, "INJECTOR_TIMEOUT": "0.001"}],
    }
    for code, cases in failures.items():
        for extra in cases:
            result = runner.run({**base, **extra}, "touch", str(marker))
            assert result.code == code, result.err
            assert not marker.exists()
    everything = b"".join(r.stdout + r.stderr for r in runner.RUNS)
    for value in (
        b"s3-plain-secret",
        b"second-line-secret",
        b"ssm-secret-value",
        b"sm-json-secret",
        b"kms-plaintext-secret",
        b"json-field-secret",
        b"env-file-secret",
        b"env-user-value",
        b"unterminated-secret",
        b"nul-secret",
        b"tail-secret",
    ):
        assert value not in everything, value


def _limits(pid: int) -> str:
    return Path(f"/proc/{pid}/limits").read_text()


def _core(limits: str) -> tuple[str, str]:
    found = re.search(r"^Max core file size\s+(\S+)\s+(\S+)", limits, re.MULTILINE)
    assert found, limits
    return found.group(1), found.group(2)


def _wait_for_fetch(proxy, running: runner.Running) -> None:
    deadline = time.monotonic() + 20
    while proxy.count("GetObject") == 0:
        assert running.proc.poll() is None, "injector ended before fetching"
        assert time.monotonic() < deadline, "injector never fetched"
        time.sleep(0.02)


def test_core_dumps_off_while_fetching_and_restored_for_the_target(
    aws_env,
    proxy,
    refs,
) -> None:
    """RLIMIT_CORE is 0 in injector while it fetches; the target gets the original limit back."""
    proxy.add_rule(operation="GetObject", delay=HOLD)
    env = {**aws_env, "PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": proxy.url, "S": refs["S3"]}
    running = runner.start(
        env, "cat", "/proc/self/limits", prefix=("prlimit", "--core=1048576:unlimited", "--")
    )
    _wait_for_fetch(proxy, running)
    during = _core(_limits(running.pid))
    result = running.wait()
    assert result.code == 0, result.err
    assert during == ("0", "unlimited")
    assert _core(result.stdout.decode()) == ("1048576", "unlimited")


def test_non_dumpable_while_fetching(aws_env, proxy, refs, tmp_path) -> None:
    """Run as nobody, injector's /proc/PID/environ belongs to root while it fetches; not after."""
    proxy.add_rule(operation="GetObject", delay=HOLD)
    home = tmp_path / "home"
    home.mkdir()
    tmp_path.chmod(0o755)
    env = {
        **aws_env,
        "PATH": os.environ["PATH"],
        "AWS_ENDPOINT_URL": proxy.url,
        "S": refs["S3"],
        "HOME": str(home),
    }
    running = runner.start(
        env,
        "stat",
        "-c",
        "%u",
        "/proc/self/environ",
        prefix=("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"),
    )
    _wait_for_fetch(proxy, running)
    status = Path(f"/proc/{running.pid}/status").read_text()
    owner = Path(f"/proc/{running.pid}/environ").stat().st_uid
    result = running.wait()
    assert result.code == 0, result.err
    assert re.search(r"^Uid:\s+65534\s", status, re.MULTILINE), status
    assert owner == 0, "a dumpable process's environ belongs to its own user"
    assert result.stdout.strip() == b"65534"
