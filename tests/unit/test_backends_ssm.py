"""The SSM backend against botocore's Stubber: selectors, batching, not-found mapping."""

from __future__ import annotations

from unittest import mock

import botocore.session
import pytest
from botocore.stub import Stubber

from injector.backends import ssm
from injector.deadline import Deadline
from injector.errors import BadDataError, ConfigError, SecretNotFoundError, UnavailableError
from injector.references import Source, parse

pytestmark = pytest.mark.unit


class FakeClients:
    """Hands out one stubbed client and records the regions asked for."""

    def __init__(self, client) -> None:
        """Hand out *client* for every service and region."""
        self.client = client
        self.deadline = Deadline(30)
        self.max_bytes = 16 * 1024 * 1024
        self.regions: list[str | None] = []

    def get(self, _service, region, **_kwargs):
        """Return the stubbed client, noting the region."""
        self.regions.append(region)
        return self.client


def _stubbed():
    client = botocore.session.get_session().create_client(
        "ssm",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )
    return client, Stubber(client)


def _run(sources, clients):
    outcome = {}
    for batch in ssm.batches(sources, clients):
        outcome.update(batch())
    return outcome


def test_selectors_for_version_and_label() -> None:
    """A version or label pin becomes NAME:PIN; both at once is a config error."""
    assert ssm.selector(parse("ref+awsssm://a/b?version=3").source) == "/a/b:3"
    assert ssm.selector(parse("ref+awsssm://a/b?label=prod").source) == "/a/b:prod"
    arn = "arn:aws:ssm:eu-west-1:1:parameter/x/y"
    assert ssm.selector(parse(arn).source) == arn
    with pytest.raises(ConfigError):
        ssm.selector(parse("ref+awsssm://a?version=1&label=x").source)
    with pytest.raises(ConfigError):
        ssm.selector(parse("ref+awsssm://a?version=one").source)


def test_pack_limits_ten_and_never_repeats_a_name() -> None:
    """25 distinct names make 3 calls; two pins of one name never share a call."""
    wanted = {f"/p{i}": [Source("ssm", f"/p{i}")] for i in range(25)}
    assert [len(c) for c in ssm.pack(wanted)] == [10, 10, 5]
    pins = {"/a": [Source("ssm", "/a")], "/a:2": [Source("ssm", "/a", None, (("version", "2"),))]}
    chunks = ssm.pack(pins)
    assert len(chunks) == 2


def test_one_call_decrypts_and_maps_invalid_parameters() -> None:
    """One GetParameters call WithDecryption; InvalidParameters are not found, others values."""
    client, stub = _stubbed()
    stub.add_response(
        "get_parameters",
        {"Parameters": [{"Name": "/a", "Value": "va"}], "InvalidParameters": ["/b"]},
        {"Names": ["/a", "/b"], "WithDecryption": True},
    )
    a, b = Source("ssm", "/a"), Source("ssm", "/b")
    with stub:
        outcome = _run([a, b], FakeClients(client))
    assert outcome[a] == b"va"
    assert isinstance(outcome[b], SecretNotFoundError)
    stub.assert_no_pending_responses()


def test_regions_get_their_own_calls() -> None:
    """Sources in different regions go to different calls with their own region."""
    client, stub = _stubbed()
    for name in ("/a", "/b"):
        stub.add_response("get_parameters", {"Parameters": [{"Name": name, "Value": name}]})
    clients = FakeClients(client)
    sources = [Source("ssm", "/a", "eu-west-1"), Source("ssm", "/b", "us-west-2")]
    with stub:
        outcome = _run(sources, clients)
    assert sorted(clients.regions) == ["eu-west-1", "us-west-2"]
    assert outcome == {sources[0]: b"/a", sources[1]: b"/b"}


def test_throttling_fails_the_whole_batch_as_unavailable() -> None:
    """A server error on the call is unavailable for every source in it, naming each."""
    client, stub = _stubbed()
    stub.add_client_error("get_parameters", "ThrottlingException", http_status_code=400)
    a, b = Source("ssm", "/a"), Source("ssm", "/b")
    with stub:
        outcome = _run([a, b], FakeClients(client))
    assert all(isinstance(v, UnavailableError) for v in outcome.values())
    assert {v.reference for v in outcome.values()} == {"ref+awsssm://a", "ref+awsssm://b"}


def test_rejected_batch_is_retried_name_by_name() -> None:
    """A ValidationException on a batch is narrowed to the one bad name."""
    client, stub = _stubbed()
    stub.add_client_error("get_parameters", "ValidationException")
    stub.add_response("get_parameters", {"Parameters": [{"Name": "/good", "Value": "g"}]})
    stub.add_client_error("get_parameters", "ValidationException")
    good, bad = Source("ssm", "/good"), Source("ssm", "/bad name")
    with stub:
        outcome = _run([good, bad], FakeClients(client))
    assert outcome[good] == b"g"
    assert isinstance(outcome[bad], ConfigError)


def test_bad_pin_is_reported_without_a_call() -> None:
    """A source with a bad version pin fails alone, and no call is made for it."""
    client, stub = _stubbed()
    bad = Source("ssm", "/a", None, (("version", "x"),))
    with stub:
        outcome = _run([bad], FakeClients(client))
    assert isinstance(outcome[bad], ConfigError)


def test_arn_is_sent_whole_and_matched_by_arn() -> None:
    """An ARN is the Name sent; only a parameter carrying that ARN answers it."""
    arn = "arn:aws:ssm:us-east-1:999999999999:parameter/x"
    client, stub = _stubbed()
    theirs = {"Name": arn, "ARN": arn, "Value": "shared"}
    stub.add_response(
        "get_parameters", {"Parameters": [theirs]}, {"Names": [arn], "WithDecryption": True}
    )
    source = parse(arn).source
    with stub:
        assert _run([source], FakeClients(client)) == {source: b"shared"}


def test_own_parameter_never_answers_another_accounts_arn() -> None:
    """The caller's /x (its own ARN) in the answer to another account's ARN is a bad answer."""
    arn = "arn:aws:ssm:us-east-1:999999999999:parameter/x"
    own = {"Name": "/x", "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/x", "Value": "own"}
    client, stub = _stubbed()
    for _ in range(4):
        stub.add_response("get_parameters", {"Parameters": [own]})
    source = parse(arn).source
    clients = FakeClients(client)
    with stub, mock.patch("injector.backends.aws._backoff", return_value=0.0):
        outcome = _run([source], clients)
    assert isinstance(outcome[source], UnavailableError)
    assert outcome[source].reference == arn


@pytest.mark.parametrize(
    "response",
    [
        {},
        {"Parameters": [{"Name": "/x"}]},
        {"Parameters": [{"Name": "/x", "Value": ""}]},
        {"Parameters": []},
        {"Parameters": [{"Name": "/x", "Value": "\ud800"}]},
    ],
    ids=["no-list", "no-value", "empty-value", "left-out", "lone-surrogate"],
)
def test_bad_answers_are_asked_again_then_unavailable(response) -> None:
    """An answer that breaks GetParameters' promise is retried, then 69, never not found."""
    client, stub = _stubbed()
    for _ in range(4):
        stub.add_response("get_parameters", response)
    source = Source("ssm", "/x")
    with stub, mock.patch("injector.backends.aws._backoff", return_value=0.0):
        outcome = _run([source], FakeClients(client))
    assert type(outcome[source]) is UnavailableError
    assert "not what the API promises" in outcome[source].message
    stub.assert_no_pending_responses()


def test_plain_name_and_selector_in_one_run_get_their_own_values() -> None:
    """/x and /x:1 go in separate calls and each maps back to its own answer."""
    client, stub = _stubbed()
    stub.add_response(
        "get_parameters", {"Parameters": [{"Name": "/x", "Value": "now", "Version": 2}]}
    )
    stub.add_response(
        "get_parameters",
        {"Parameters": [{"Name": "/x", "Value": "old", "Selector": ":1", "Version": 1}]},
    )
    now, old = Source("ssm", "/x"), parse("ref+awsssm://x:1").source
    with stub:
        assert _run([now, old], FakeClients(client)) == {now: b"now", old: b"old"}


def test_value_over_the_cap_is_bad_data_naming_the_reference() -> None:
    """A parameter value longer than max_bytes is 65 for that reference, without a retry."""
    client, stub = _stubbed()
    stub.add_response("get_parameters", {"Parameters": [{"Name": "/x", "Value": "12345"}]})
    clients = FakeClients(client)
    clients.max_bytes = 4
    source = Source("ssm", "/x")
    with stub:
        outcome = _run([source], clients)
    assert isinstance(outcome[source], BadDataError)
    assert outcome[source].reference == "ref+awsssm://x"
    assert "INJECTOR_MAX_SECRET_BYTES" in outcome[source].message
