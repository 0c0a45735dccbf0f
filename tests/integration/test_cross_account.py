"""ARNs of another account (finding i): sent whole, and never answered by the caller's own secret.

GetParameters accepts the ARN of a parameter shared from another account as a Name; moto has
no sharing, so where AWS would answer with the shared parameter our proxy answers as AWS would,
and the recording proxy proves what was asked for.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.support import runner

pytestmark = pytest.mark.security

OTHER = "999999999999"
OWN = "123456789012"
FOREIGN_PARAMETER = f"arn:aws:ssm:us-east-1:{OTHER}:parameter/prod/db"
OWN_VALUE = "callers-own-prod-db-value"
SHARED_VALUE = "other-accounts-shared-value"


def through(aws_env, proxy, **extra: str) -> dict[str, str]:
    """Return the environment for injector talking to moto through the proxy."""
    return {
        **aws_env,
        "AWS_ENDPOINT_URL": proxy.url,
        "PATH": os.environ["PATH"],
        "INJECTOR_TIMEOUT": "20",
        **extra,
    }


def sent(proxy, operation: str, field: str) -> list[str]:
    """Return every name the recorded *operation* calls asked for in *field*."""
    names: list[str] = []
    for call in proxy.calls():
        if call.operation == operation:
            names.extend(json.loads(call.body)[field])
    return names


def parameters_answer(name: str, arn: str, value: str) -> bytes:
    """Return a GetParameters answer holding one parameter."""
    parameter = {
        "Name": name,
        "ARN": arn,
        "Value": value,
        "Type": "SecureString",
        "Version": 1,
        "DataType": "text",
    }
    return json.dumps({"Parameters": [parameter], "InvalidParameters": []}).encode()


@pytest.fixture
def own(seed) -> None:
    """Seed the caller's own /prod/db, the parameter a bare-name lookup would wrongly return."""
    seed.parameter("/prod/db", OWN_VALUE)


def test_foreign_parameter_arn_is_sent_whole_and_its_value_delivered(
    aws_env,
    proxy,
    own,
) -> None:
    """The Name sent is the full ARN; AWS's answer for the shared parameter is delivered."""
    answer = parameters_answer(FOREIGN_PARAMETER, FOREIGN_PARAMETER, SHARED_VALUE)
    proxy.add_rule(operation="GetParameters", body=FOREIGN_PARAMETER, reply=answer)
    runner.remember(SHARED_VALUE)
    result = runner.run(
        through(aws_env, proxy, DB=FOREIGN_PARAMETER), "env", "-0", target_prints=True
    )
    assert result.child_env()[b"DB"] == SHARED_VALUE.encode()
    assert sent(proxy, "GetParameters", "Names") == [FOREIGN_PARAMETER]


def test_foreign_parameter_arn_never_yields_the_callers_parameter(
    aws_env,
    proxy,
    own,
    tmp_path,
) -> None:
    """Moto (no sharing) does not have it: 66, and the caller's own /prod/db is never used."""
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, DB=FOREIGN_PARAMETER), "touch", str(marker))
    assert result.code == 66, result.err
    assert not marker.exists()
    assert sent(proxy, "GetParameters", "Names") == [FOREIGN_PARAMETER]


def test_own_parameter_answering_a_foreign_arn_is_refused(aws_env, proxy, own, tmp_path) -> None:
    """A store answering the caller's /prod/db for another account's ARN is a bad answer (69)."""
    own_arn = f"arn:aws:ssm:us-east-1:{OWN}:parameter/prod/db"
    proxy.add_rule(
        operation="GetParameters", reply=parameters_answer("/prod/db", own_arn, OWN_VALUE)
    )
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, DB=FOREIGN_PARAMETER), "touch", str(marker))
    assert result.code == 69, result.err
    assert not marker.exists()
    assert OWN_VALUE.encode() not in result.stdout


def test_own_account_arn_still_reads_the_own_parameter(aws_env, proxy, own) -> None:
    """The caller's own ARN is sent whole too; with the plain name in the same run both arrive."""
    own_arn = f"arn:aws:ssm:us-east-1:{OWN}:parameter/prod/db"
    extra = {"DB": own_arn, "PLAIN": "ref+awsssm://prod/db"}
    result = runner.run(through(aws_env, proxy, **extra), "env", "-0", target_prints=True)
    env = result.child_env()
    assert env[b"DB"] == env[b"PLAIN"] == OWN_VALUE.encode()
    assert sorted(sent(proxy, "GetParameters", "Names")) == ["/prod/db", own_arn]
    assert proxy.count("GetParameters") == 2  # never in one call: answers could be confused


def test_foreign_secret_arn_is_sent_whole_and_not_answered_by_own_secret(
    aws_env,
    proxy,
    seed,
    tmp_path,
) -> None:
    """A secret ARN of another account is the SecretId; the caller's same-named secret is not it."""
    seed.secret("prod/db", OWN_VALUE)
    foreign = f"arn:aws:secretsmanager:us-east-1:{OTHER}:secret:prod/db"
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, DB=foreign), "touch", str(marker))
    assert result.code in (66, 69), result.err
    assert not marker.exists()
    assert sent(proxy, "BatchGetSecretValue", "SecretIdList") == [foreign]
