"""Answers that are not what the API promises (finding d), served by our proxy in front of moto.

An HTML page, JSON cut off without a Content-Length, a parameter without its value, ``null``
items, lone surrogates, a secret without a value, a Decrypt answer without a Plaintext: each is
asked for again like a truncated body, then exit 69. Never "not found" (so never skipped as
``?optional=true``), never an empty value, never a traceback (70). ``optional`` only ever
means that the store said the secret does not exist.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support import runner

pytestmark = pytest.mark.faults

ATTEMPTS = 4  # injector.backends.aws.BODY_ATTEMPTS
PARAMETER = "/bad/param"
VALUE = "bad-answers-real-value"
HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


def through(aws_env: dict[str, str], proxy, **extra: str) -> dict[str, str]:
    """Return the environment for injector talking to moto through the proxy."""
    return {
        **aws_env,
        "AWS_ENDPOINT_URL": proxy.url,
        "PATH": os.environ["PATH"],
        "INJECTOR_TIMEOUT": "20",
        **extra,
    }


def assert_bad_answer(result: runner.Run, marker: Path, reference: str) -> None:
    """Assert 69 naming *reference* as a bad answer, no traceback, and the target never ran."""
    assert result.code == 69, result.err
    assert not marker.exists(), "the target ran"
    failed = result.events()[-1]
    assert failed["event"] == "failed", result.err
    assert failed["reference"] == reference
    assert "not what the API promises" in failed["error"]
    assert "Traceback" not in result.err


def reply(value: object) -> bytes:
    """Return *value* as the JSON body of a fake answer."""
    return json.dumps(value).encode()


@pytest.fixture
def parameter(seed) -> str:
    """Seed the parameter the fake answers pretend to return; return its reference."""
    seed.parameter(PARAMETER, VALUE)
    return "ref+awsssm://bad/param"


SSM_ANSWERS = {
    "html": {"reply": HTML, "reply_type": "text/html"},
    "cut_json_without_length": {"truncate": 30, "close_delimited": True},
    "parameter_without_value": {"reply": reply({"Parameters": [{"Name": PARAMETER}]})},
    "null_item": {"reply": reply({"Parameters": [None], "InvalidParameters": []})},
    "lone_surrogate": {"reply": b'{"Parameters":[{"Name":"/bad/param","Value":"\\ud800"}]}'},
    "empty_object": {"reply": b"{}"},
}


@pytest.mark.parametrize("kind", SSM_ANSWERS)
def test_bad_ssm_answer_is_retried_then_69_never_not_found(
    aws_env,
    proxy,
    parameter,
    tmp_path,
    kind,
) -> None:
    """A GetParameters answer of this kind is asked for 4 times, then 69 (not 66, not 70)."""
    proxy.add_rule(operation="GetParameters", **SSM_ANSWERS[kind])
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, P=parameter), "touch", str(marker))
    assert_bad_answer(result, marker, parameter)
    assert proxy.count("GetParameters") == ATTEMPTS


@pytest.mark.parametrize("kind", ["html", "parameter_without_value", "null_item"])
def test_bad_answer_for_an_optional_secret_is_69_not_skipped(
    aws_env,
    proxy,
    parameter,
    tmp_path,
    kind,
) -> None:
    """?optional=true does not turn a bad answer into "missing": the start still fails."""
    proxy.add_rule(operation="GetParameters", **SSM_ANSWERS[kind])
    marker = tmp_path / "ran"
    optional = parameter + "?optional=true"
    result = runner.run(through(aws_env, proxy, P=optional), "touch", str(marker))
    assert_bad_answer(result, marker, optional)


def test_optional_means_only_the_store_said_it_does_not_exist(aws_env, proxy) -> None:
    """A parameter in InvalidParameters and a secret the store calls missing are skipped."""
    extra = {
        "P": "ref+awsssm://not/there?optional=true",
        "S": "ref+awssecrets://not/there?optional=true",
    }
    result = runner.run(through(aws_env, proxy, **extra), "env", "-0", target_prints=True)
    env = result.child_env()
    assert b"P" not in env
    assert b"S" not in env


def test_one_bad_answer_is_asked_again_and_the_value_arrives(aws_env, proxy, parameter) -> None:
    """A single HTML answer is retried like a cut-short body, and the real value is delivered."""
    rule = proxy.add_rule(operation="GetParameters", times=1, **SSM_ANSWERS["html"])
    result = runner.run(through(aws_env, proxy, P=parameter), "env", "-0", target_prints=True)
    assert result.child_env()[b"P"] == VALUE.encode()
    assert rule.hits == 1
    assert proxy.count("GetParameters") == 2


@pytest.fixture
def secret(seed) -> tuple[str, str]:
    """Seed a secret; return (its ARN, its reference)."""
    arn = seed.secret("bad/secret", "bad-answers-secret-value")
    return arn, "ref+awssecrets://bad/secret"


def test_null_in_secret_values_is_69_not_a_traceback(aws_env, proxy, secret, tmp_path) -> None:
    """BatchGetSecretValue answering {"SecretValues":[null]} is a bad answer, not exit 70."""
    _, reference = secret
    body = reply({"SecretValues": [None], "Errors": []})
    proxy.add_rule(operation="BatchGetSecretValue", reply=body)
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, S=reference), "touch", str(marker))
    assert_bad_answer(result, marker, reference)
    assert proxy.count("BatchGetSecretValue") == ATTEMPTS


def test_secret_without_string_or_binary_is_69_not_empty(aws_env, proxy, secret, tmp_path) -> None:
    """A secret version answered with neither SecretString nor SecretBinary is never ''."""
    arn, reference = secret
    item = {"Name": "bad/secret", "ARN": arn, "VersionId": "v1"}
    proxy.add_rule(operation="BatchGetSecretValue", reply=reply({"SecretValues": [item]}))
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, S=reference), "touch", str(marker))
    assert_bad_answer(result, marker, reference)


def test_get_secret_value_without_a_value_is_69(aws_env, proxy, secret, tmp_path) -> None:
    """A pinned secret (GetSecretValue) answered without a value is a bad answer too."""
    arn, reference = secret
    pinned = reference + "?version_stage=AWSCURRENT"
    proxy.add_rule(operation="GetSecretValue", reply=reply({"Name": "bad/secret", "ARN": arn}))
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, S=pinned), "touch", str(marker))
    assert_bad_answer(result, marker, pinned)
    assert proxy.count("GetSecretValue") == ATTEMPTS


def test_decrypt_without_plaintext_is_69(aws_env, proxy, seed, tmp_path) -> None:
    """A KMS Decrypt answer without a Plaintext is a bad answer, not a KeyError."""
    reference = f"ref+awskms://{seed.kms_encrypt('bad-answers-kms-value')}"
    proxy.add_rule(operation="Decrypt", reply=reply({"KeyId": "k", "EncryptionAlgorithm": "x"}))
    marker = tmp_path / "ran"
    result = runner.run(through(aws_env, proxy, K=reference), "touch", str(marker))
    assert result.code == 69, result.err
    assert "not what the API promises" in result.events()[-1]["error"]
    assert "Traceback" not in result.err
    assert proxy.count("Decrypt") == ATTEMPTS
