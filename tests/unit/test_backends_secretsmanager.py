"""The Secrets Manager backend against botocore's Stubber: batch, per-secret errors, fallback."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from injector.backends import secretsmanager as sm
from injector.deadline import Deadline
from injector.errors import AccessDeniedError, BadDataError, SecretNotFoundError
from injector.references import Source, parse

pytestmark = pytest.mark.unit
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db"


class FakeClients:
    """Hands out one stubbed client."""

    def __init__(self, client) -> None:
        """Hand out *client* for every service and region."""
        self.client = client
        self.deadline = Deadline(30)
        self.max_bytes = 16 * 1024 * 1024

    def get(self, *_args, **_kwargs):
        """Return the stubbed client."""
        return self.client


def _stubbed():
    client = botocore.session.get_session().create_client(
        "secretsmanager",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )
    return client, Stubber(client)


def _run(sources, client):
    outcome = {}
    for batch in sm.batches(sources, FakeClients(client)):
        outcome.update(batch())
    return outcome


def test_batch_values_binary_string_and_errors() -> None:
    """One batch call: string as UTF-8, binary as is, a partial ARN matched, Errors per secret."""
    client, stub = _stubbed()
    stub.add_response(
        "batch_get_secret_value",
        {
            "SecretValues": [
                {"Name": "s", "ARN": ARN[:-6] + "s-AbCdEf", "SecretString": "é"},
                {"Name": "b", "ARN": ARN[:-6] + "b-AbCdEf", "SecretBinary": b"\x00\xff"},
                {"Name": "app/db", "ARN": ARN + "-XyZ123", "SecretString": "db"},
            ],
            "Errors": [
                {"SecretId": "gone", "ErrorCode": "ResourceNotFoundException", "Message": "nope"}
            ],
        },
        {"SecretIdList": ["s", "b", ARN, "gone"]},
    )
    s, b, arn, gone = (Source("secretsmanager", n) for n in ("s", "b", ARN, "gone"))
    with stub:
        outcome = _run([s, b, arn, gone], client)
    assert (outcome[s], outcome[b], outcome[arn]) == ("é".encode(), b"\x00\xff", b"db")
    assert isinstance(outcome[gone], SecretNotFoundError)


def test_denied_batch_falls_back_to_get_secret_value() -> None:
    """When BatchGetSecretValue is denied, each secret is read with GetSecretValue."""
    client, stub = _stubbed()
    stub.add_client_error("batch_get_secret_value", "AccessDeniedException")
    stub.add_response("get_secret_value", {"Name": "a", "SecretString": "one"}, {"SecretId": "a"})
    stub.add_client_error("get_secret_value", "ResourceNotFoundException")
    a, b = Source("secretsmanager", "a"), Source("secretsmanager", "b")
    with stub:
        outcome = _run([a, b], client)
    assert outcome[a] == b"one"
    assert isinstance(outcome[b], SecretNotFoundError)
    stub.assert_no_pending_responses()


def test_secret_left_out_of_the_batch_is_fetched_alone() -> None:
    """A secret the batch answer neither returns nor lists in Errors is read on its own."""
    client, stub = _stubbed()
    stub.add_response("batch_get_secret_value", {"SecretValues": [], "Errors": []})
    stub.add_response("get_secret_value", {"Name": "a", "SecretString": "late"}, {"SecretId": "a"})
    a = Source("secretsmanager", "a")
    with stub:
        assert _run([a], client) == {a: b"late"}


def test_pinned_versions_use_get_secret_value() -> None:
    """version_stage and version_id pins go to GetSecretValue, never to the batch."""
    client, stub = _stubbed()
    stub.add_response(
        "get_secret_value",
        {"Name": "a", "SecretString": "prev"},
        {"SecretId": "a", "VersionStage": "AWSPREVIOUS"},
    )
    source = parse("ref+awssecrets://a?version_stage=AWSPREVIOUS").source
    with stub:
        assert _run([source], client) == {source: b"prev"}


def test_batches_hold_at_most_twenty() -> None:
    """45 unpinned secrets make 3 batch calls."""
    sources = [Source("secretsmanager", f"s{i}") for i in range(45)]
    assert len(sm.batches(sources, FakeClients(None))) == 3


def test_other_batch_failures_do_not_fall_back() -> None:
    """A denied (403) batch falls back; a server error is reported without further calls."""
    client, stub = _stubbed()
    stub.add_client_error("batch_get_secret_value", "AccessDenied", http_status_code=403)
    stub.add_response("get_secret_value", {"Name": "a", "SecretString": "x"})
    a = Source("secretsmanager", "a")
    with stub:
        assert _run([a], client) == {a: b"x"}
    client, stub = _stubbed()
    stub.add_client_error("batch_get_secret_value", "InternalServiceError", http_status_code=500)
    with stub:
        outcome = _run([a], client)
    assert not isinstance(outcome[a], bytes | AccessDeniedError)
    assert outcome[a].exit_code == 69


def test_secret_over_the_cap_is_bad_data_naming_the_reference() -> None:
    """A secret longer than max_bytes is 65 for that reference."""
    client, stub = _stubbed()
    stub.add_response(
        "batch_get_secret_value",
        {"SecretValues": [{"Name": "a", "ARN": ARN[:-6] + "a-AbCdEf", "SecretString": "12345"}]},
    )
    clients = FakeClients(client)
    clients.max_bytes = 4
    a = Source("secretsmanager", "a")
    with stub:
        (batch,) = sm.batches([a], clients)
        outcome = batch()
    assert isinstance(outcome[a], BadDataError)
    assert outcome[a].reference == "ref+awssecrets://a"


def test_foreign_arn_is_not_answered_by_a_same_named_secret() -> None:
    """An ARN SecretId only matches an answer with that ARN, never one with the same Name."""
    foreign = "arn:aws:secretsmanager:us-east-1:999999999999:secret:app/db"
    own = {"Name": foreign, "ARN": ARN + "-XyZ123", "SecretString": "own"}
    assert sm._is(foreign, own) is False
    assert sm._is(foreign, {"ARN": foreign + "-AbCdEf"}) is True
    assert sm._is("app/db", {"Name": "app/db", "ARN": ARN + "-XyZ123"}) is True
