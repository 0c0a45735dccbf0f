"""Faults between injector and its stores (our proxy in front of moto) and in IMDSv2.

Transient faults are retried and the program starts with the right values; permanent ones stop
the start before exec with the documented exit code, within ``INJECTOR_TIMEOUT``, and the
target never runs (it would touch a marker file).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.support import runner

pytestmark = pytest.mark.faults

VALUES = {
    "S3": b"fault-s3-object-value",
    "SSM": b"fault-ssm-parameter-value",
    "SMB": b"fault-sm-batched-value",
    "SMG": b"fault-sm-single-value",
    "KMS": b"fault-kms-plaintext-value",
}
# Every API call injector makes for VALUES' references, one per backend path.
OPERATIONS = ("GetObject", "GetParameters", "BatchGetSecretValue", "GetSecretValue", "Decrypt")
REAL_DENIED = (
    "User: arn:aws:iam::123456789012:user/app is not authorized to perform this "
    "operation because no identity-based policy allows it"
)
TRANSIENT = {
    "http500": ({"status": 500}, 2),
    "http503": ({"status": 503}, 2),
    "throttling": ({"error": "ThrottlingException"}, 2),  # S3 gets SlowDown (503)
    "drop": ({"drop": True}, 1),
    "reset": ({"reset": True}, 1),
    "truncate": ({"truncate": 5}, 1),
}
PERMANENT = {
    **{name: (spec, 69) for name, (spec, _) in TRANSIENT.items()},
    "denied": ({"error": "AccessDeniedException", "message": REAL_DENIED}, 77),
    "slow": ({"delay": 60.0}, 69),
}
TIMEOUT = 4.0
SLACK = 12.0  # process start and interpreter exit on a busy 2-core machine
# Where the error must be botocore's last answer (its retries end in < 1 s), not the
# deadline: 4 s ran out once while the load tests' 60 processes shared the 2 CPUs.
GIVE_UP_TIMEOUT = 10.0


@pytest.fixture
def stores(seed) -> dict[str, str]:
    """Seed one secret per backend path; return variable -> reference."""
    seed.object("faults", "app/secret", VALUES["S3"])
    seed.parameter("/faults/param", VALUES["SSM"].decode())
    seed.secret("faults/batched", VALUES["SMB"].decode())
    seed.secret("faults/single", VALUES["SMG"].decode())
    blob = seed.kms_encrypt(VALUES["KMS"])
    return {
        "S3": "ref+s3://faults/app/secret",
        "SSM": "ref+awsssm://faults/param",
        "SMB": "ref+awssecrets://faults/batched",
        "SMG": "ref+awssecrets://faults/single?version_stage=AWSCURRENT",
        "KMS": f"ref+awskms://{blob}",
    }


def through(aws_env, proxy, extra) -> dict[str, str]:
    """Return the environment for injector talking to moto through the proxy."""
    return {**aws_env, "AWS_ENDPOINT_URL": proxy.url, "PATH": os.environ["PATH"], **extra}


def assert_not_started(result: runner.Run, marker: Path, code: int) -> None:
    """Assert the start failed with *code*, one final ``failed`` line, and the target never ran."""
    assert result.code == code, result.err
    assert not marker.exists(), "the target ran"
    events = result.events()
    assert events[-1]["event"] == "failed", result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("fault", TRANSIENT)
def test_transient_fault_is_retried_on_every_backend(aws_env, proxy, stores, fault) -> None:
    """A fault hitting each backend's call once or twice is retried and the values arrive."""
    spec, times = TRANSIENT[fault]
    rules = [proxy.add_rule(operation=op, times=times, **spec) for op in OPERATIONS]
    result = runner.run(through(aws_env, proxy, stores), "env", "-0", target_prints=True)
    env = result.child_env()
    assert {name: env[name.encode()] for name in VALUES} == VALUES
    assert [rule.hits for rule in rules] == [times] * len(OPERATIONS)
    assert {op: proxy.count(op) for op in OPERATIONS} == dict.fromkeys(OPERATIONS, times + 1)


def test_slow_answer_past_the_read_timeout_is_retried(aws_env, proxy, stores) -> None:
    """One answer per call slower than the 10 s read timeout is abandoned and retried."""
    for op in OPERATIONS:
        proxy.add_rule(operation=op, times=1, delay=12.0)
    result = runner.run(through(aws_env, proxy, stores), "env", "-0", target_prints=True)
    env = result.child_env()
    assert {name: env[name.encode()] for name in VALUES} == VALUES
    assert {op: proxy.count(op) for op in OPERATIONS} == dict.fromkeys(OPERATIONS, 2)
    assert result.duration < 11.5 + SLACK


@pytest.mark.parametrize("fault", PERMANENT)
def test_permanent_fault_stops_before_exec(aws_env, proxy, stores, tmp_path, fault) -> None:
    """A fault on every call of every backend fails the start with its code, within the deadline."""
    spec, code = PERMANENT[fault]
    for op in OPERATIONS:
        proxy.add_rule(operation=op, **spec)
    marker = tmp_path / "ran"
    extra = {**stores, "INJECTOR_TIMEOUT": str(TIMEOUT)}
    result = runner.run(through(aws_env, proxy, extra), "touch", str(marker))
    assert_not_started(result, marker, code)
    assert result.duration < TIMEOUT + SLACK
    for name, reference in stores.items():
        shown = "ref+awskms://" if name == "KMS" else reference
        assert shown in result.err, f"{name} not named"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_one_failing_backend_means_no_partial_start(
    aws_env,
    proxy,
    stores,
    tmp_path,
    operation,
) -> None:
    """When one backend keeps failing and the others answer, nothing is exec'd (69)."""
    proxy.add_rule(operation=operation, status=503)
    marker = tmp_path / "ran"
    extra = {**stores, "INJECTOR_TIMEOUT": str(GIVE_UP_TIMEOUT)}
    result = runner.run(through(aws_env, proxy, extra), "touch", str(marker))
    assert_not_started(result, marker, 69)
    assert result.duration < GIVE_UP_TIMEOUT + SLACK
    failed = result.events()[-1]
    assert "503" in failed["error"]
    assert "ServiceUnavailable" in failed["error"]


def test_denied_json_error_is_77_naming_the_reference(aws_env, proxy, stores, tmp_path) -> None:
    """AccessDeniedException in AWS's JSON shape on SSM alone is 77 naming that reference."""
    proxy.add_rule(operation="GetParameters", error="AccessDeniedException", message=REAL_DENIED)
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, stores), "touch", str(marker))
    assert_not_started(result, marker, 77)
    failed = result.events()[-1]
    assert failed["reference"] == stores["SSM"]
    assert failed["error"].startswith("access denied (AccessDeniedException: User: arn:aws:iam")
    assert proxy.count("GetParameters") == 1  # denied is final: no retries


# ------------------------------------------------------------------------------------ IMDSv2

IMDS_VALUE = b"imds-credentials-value"


@pytest.fixture
def imds_store(seed) -> dict[str, str]:
    """One SSM parameter, readable with the IMDS role's (fake) credentials."""
    seed.parameter("/imds/p", IMDS_VALUE.decode())
    return {"P": "ref+awsssm://imds/p", "PATH": os.environ["PATH"]}


IMDS_FAULTS = {
    "http500": {"fail_status": 500},
    "slow_token": {"token_delay": 5.0},
    "no_role": {"no_role": True},
    "v1_refused": {"token_status": 403},  # no token: botocore tries IMDSv1, which gets 401
}


@pytest.mark.parametrize("fault", IMDS_FAULTS)
def test_imds_fault_is_77_fast(imds_env, imds, imds_store, tmp_path, fault) -> None:
    """IMDS failures mean "no credentials" (77), quickly, with a clear message."""
    for name, value in IMDS_FAULTS[fault].items():
        setattr(imds, name, value)
    marker = tmp_path / "ran"
    result = runner.run({**imds_env, **imds_store}, "touch", str(marker))
    assert_not_started(result, marker, 77)
    assert "no AWS credentials" in result.events()[-1]["error"]
    assert result.duration < 15.0, f"took {result.duration:.1f}s"


@pytest.mark.parametrize("fault", [{"token_delay": 1.5}, {"fail_status": 500, "fail_times": 1}])
def test_one_slow_or_failed_imds_answer_is_survived(imds_env, imds, imds_store, fault) -> None:
    """A token answer slower than botocore's 1 s default, or one 500, does not fail the start."""
    for name, value in fault.items():
        setattr(imds, name, value)
    started = time.monotonic()
    result = runner.run({**imds_env, **imds_store}, "env", "-0", target_prints=True)
    assert result.child_env()[b"P"] == IMDS_VALUE
    assert time.monotonic() - started < 20
