"""Store edges against botocore's Stubber: SSE-C objects, SSM writes under a key, lying answers."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from injector.backends import s3, secretsmanager, ssm
from injector.backends.aws import BadAnswerError
from injector.deadline import Deadline
from injector.errors import ConfigError
from injector.references import parse


class _Clients:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.deadline = Deadline(30)
        self.max_bytes = 1 << 20

    def get(self, _service: str, _region: str | None, **_kwargs: object) -> Any:
        return self.client


def _stubbed(service: str) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        service,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - a fake key for the stub
    )
    return client, Stubber(client)


def test_sse_c_object_is_78_with_a_hint() -> None:
    """An object encrypted with a customer key (SSE-C) is a configuration error, not 69."""
    client, stub = _stubbed("s3")
    stub.add_client_error(
        "get_object",
        service_error_code="InvalidRequest",
        service_message="The object was stored using a form of Server Side Encryption.",
        http_status_code=400,
    )
    with stub, pytest.raises(ConfigError) as caught:
        s3.fetch(parse("ref+s3://bucket/key").source, _Clients(client))  # type: ignore[arg-type]
    assert caught.value.exit_code == 78
    assert caught.value.message == s3.SSE_C_HINT


def test_other_s3_errors_pass_through() -> None:
    """Any other S3 error is left for the common translation."""
    client, stub = _stubbed("s3")
    stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    with stub, pytest.raises(botocore.exceptions.ClientError):
        s3.fetch(parse("ref+s3://bucket/key").source, _Clients(client))  # type: ignore[arg-type]


def test_ssm_put_under_a_kms_key() -> None:
    """A put with --kms-key-id sends the key id with the SecureString."""
    client, stub = _stubbed("ssm")
    expected = {
        "Name": "/a/b",
        "Value": "text",
        "Type": "SecureString",
        "Overwrite": True,
        "KeyId": "alias/app",
    }
    stub.add_response("put_parameter", {"Version": 1}, expected)
    with stub:
        ssm.store(parse("ref+awsssm://a/b").source, "text", _Clients(client), "alias/app")  # type: ignore[arg-type]
        stub.assert_no_pending_responses()


def test_ssm_answer_for_another_pin_is_a_bad_answer() -> None:
    """A parameter answered for another selector than the one asked is not taken as the value."""
    response = {
        "Parameters": [{"Name": "/a/b", "Selector": ":4", "Value": "v", "Version": 4}],
        "InvalidParameters": [],
    }
    with pytest.raises(BadAnswerError, match="left out"):
        ssm.answer(["/a/b:3"], response, 100)


def test_batch_answer_without_secret_values_is_a_bad_answer() -> None:
    """A BatchGetSecretValue answer without its SecretValues list is not trusted."""
    group = [parse("ref+awssecrets://app").source]
    with pytest.raises(BadAnswerError, match="SecretValues"):
        secretsmanager._outcomes(group, {"Errors": []}, 100)
