"""The shared call path: one retry loop for bad and cut-short answers, region shape, labels."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import botocore
import pytest
from botocore import exceptions as boto

from injector.backends import aws, guarded
from injector.backends.errors import TLS_UNTRUSTED, translate
from injector.deadline import Deadline
from injector.errors import AccessDeniedError, BadDataError, ConfigError, UnavailableError
from injector.references import Source

pytestmark = pytest.mark.unit


def _flaky(*failures: Exception, result: object = "ok"):
    """Return a method that raises *failures* in turn, then returns *result*."""
    calls: list[dict] = []

    def method(**params):
        calls.append(params)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return result

    method.calls = calls  # type: ignore[attr-defined]
    return method


def test_bad_and_cut_answers_are_asked_again_then_succeed() -> None:
    """A BadAnswerError and an IncompleteReadError each cost one more call, same parameters."""
    method = _flaky(
        aws.BadAnswerError("html"), boto.IncompleteReadError(actual_bytes=1, expected_bytes=2)
    )
    with mock.patch.object(aws, "_backoff", return_value=0.0):
        assert aws.call(Deadline(10), method, {"Name": "x"}) == "ok"
    assert method.calls == [{"Name": "x"}] * 3  # type: ignore[attr-defined]


def test_answer_check_runs_inside_the_loop_and_gives_up_as_unavailable() -> None:
    """A check that keeps refusing the answer ends as UnavailableError after 4 attempts."""
    method = _flaky()

    def refuse(_answer):
        raise aws.BadAnswerError("no Value")

    with (
        mock.patch.object(aws, "_backoff", return_value=0.0),
        pytest.raises(UnavailableError, match="not what the API promises: no Value"),
    ):
        aws.call(Deadline(10), method, {}, refuse)
    assert len(method.calls) == aws.BODY_ATTEMPTS  # type: ignore[attr-defined]


def test_other_errors_are_not_retried_by_the_loop() -> None:
    """Denied, too large and client errors pass through at once (botocore retried what it could)."""
    for error in (AccessDeniedError("no"), BadDataError("big")):
        method = _flaky(error)
        with pytest.raises(type(error)):
            aws.call(Deadline(10), method, {})
        assert len(method.calls) == 1  # type: ignore[attr-defined]


def test_every_known_aws_region_is_region_shaped() -> None:
    """The ?region= check accepts every region botocore knows and refuses other words."""
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    regions = [r for partition in data["partitions"] for r in partition["regions"]]
    assert len(regions) > 20
    assert all(aws.REGION_SHAPE.match(r) for r in regions)
    for word in ("nowhere", "US-EAST-1", "us-east-1 ", "us-east", "local", "eu-west-1/x"):
        assert not aws.REGION_SHAPE.match(word)


def test_a_bad_region_is_a_config_error_before_any_client() -> None:
    """Clients.get refuses a region that is not region-shaped (78), naming the reference."""
    clients = aws.Clients(Deadline(10), 1)
    with pytest.raises(ConfigError, match="not an AWS region name") as caught:
        clients.get("ssm", "nowhere", reference="ref+awsssm://x?region=nowhere")
    assert caught.value.reference == "ref+awsssm://x?region=nowhere"


def test_missing_profile_is_a_config_error() -> None:
    """AWS_PROFILE naming no profile is 78 naming the profile, not a botocore traceback."""
    with mock.patch.dict(
        os.environ,
        {"AWS_PROFILE": "nope", "AWS_CONFIG_FILE": "/nonexistent", "AWS_REGION": "us-east-1"},
    ):
        clients = aws.Clients(Deadline(10), 1)
        with pytest.raises(ConfigError, match=r"AWS_PROFILE .*\(nope\)"):
            clients.get("ssm", None)


def test_untrusted_certificate_message_names_the_bundle() -> None:
    """An SSL verification failure says the certificate is not trusted and names AWS_CA_BUNDLE."""
    exc = boto.SSLError(endpoint_url="https://x", error="[SSL: CERTIFICATE_VERIFY_FAILED] x")
    assert translate(exc).message == TLS_UNTRUSTED
    assert isinstance(translate(exc), UnavailableError)


def test_guarded_labels_every_error_once() -> None:
    """A batch's failure becomes each source's outcome, labelled with that source's reference."""
    a, b = Source("ssm", "/a"), Source("ssm", "/b")

    def fetch():
        raise aws.BadAnswerError("boom")

    outcome = guarded([a, b], lambda s: "ref:" + s.name, fetch)()
    assert {s: e.reference for s, e in outcome.items()} == {a: "ref:/a", b: "ref:/b"}


def test_without_any_region_s3_goes_global_and_others_are_78() -> None:
    """No region anywhere (metadata disabled): S3 follows the bucket, SSM is a config error."""
    env = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}  # fmt: skip
    with mock.patch.dict(os.environ, env):
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
            os.environ.pop(name, None)
        clients = aws.Clients(Deadline(10), 1)
        assert clients.get("s3", None).meta.region_name == aws.GLOBAL_S3_REGION
        with pytest.raises(ConfigError, match="no AWS region"):
            clients.get("ssm", None, reference="ref+awsssm://x")


@pytest.mark.parametrize(("exc", "words"), [
    (boto.InvalidIMDSEndpointModeError(mode="IPv5", valid_modes=("ipv4", "ipv6")), "ENDPOINT"),
    (boto.InvalidIMDSEndpointError(endpoint="x"), "ENDPOINT"),
    (boto.NoRegionError(), "no AWS region"),
    (boto.InvalidRegionError(region_name="a b"), "configuration rejected"),
])  # fmt: skip
def test_configuration_failures_are_78(exc, words) -> None:
    """Botocore's configuration errors map to ConfigError (78) with a value-free message."""
    error = translate(exc, "ref")
    assert isinstance(error, ConfigError)
    assert words in error.message
    assert error.reference == "ref"


def test_other_tls_failures_are_named_as_tls() -> None:
    """A TLS failure that is not about trust (a handshake alert) still says TLS."""
    exc = boto.SSLError(endpoint_url="https://x", error="[SSL: TLSV1_ALERT_PROTOCOL_VERSION]")
    assert translate(exc).message == "TLS failure (SSLError)"


class _Body:
    """A stand-in for botocore's StreamingBody."""

    def __init__(self, data: bytes) -> None:
        self.data, self.asked, self.closed = data, [], False

    def read(self, amount: int) -> bytes:
        self.asked.append(amount)
        chunk, self.data = self.data[:amount], self.data[amount:]
        return chunk

    def close(self) -> None:
        self.closed = True


def test_s3_body_is_read_in_chunks_and_refused_at_the_cap() -> None:
    """Never more than cap + 1 bytes are asked for; the body is closed either way."""
    from injector.backends import s3

    body = _Body(b"x" * 100)
    with pytest.raises(BadDataError, match="INJECTOR_MAX_SECRET_BYTES"):
        s3.read({"Body": body}, 10)
    assert sum(body.asked) <= 11
    assert body.closed
    body = _Body(b"x" * 10)
    with pytest.raises(BadDataError):
        s3.read({"Body": body, "ContentLength": 11}, 10)
    assert body.asked == []  # refused from the header, before reading
    assert s3.read({"Body": _Body(b"abc"), "ContentLength": 3}, 10) == b"abc"
    with pytest.raises(boto.IncompleteReadError):
        s3.read({"Body": _Body(b"ab"), "ContentLength": 3}, 10)


def test_answers_keep_their_timestamps_as_sent() -> None:
    """The parser of each answer leaves Last-Modified as S3 sent it: no dateutil per call."""
    client = aws.Clients(Deadline(10), 4).get("s3", "us-east-1")
    output = client.meta.service_model.operation_model("GetObject").output_shape
    sent = "Thu, 03 Dec 2026 18:00:00 GMT"
    answer = {"status_code": 200, "headers": {"Last-Modified": sent}, "body": b"x"}
    parser = client._endpoint._response_parser_factory.create_parser("rest-xml")
    assert parser.parse(answer, output)["LastModified"] == sent


def test_prepare_resolves_the_keys_and_creates_the_clients(monkeypatch) -> None:
    """Before a fork: the session, its keys and each named client exist, default region applied."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    clients = aws.Clients(Deadline(10), 4)
    assert clients.prepare([("s3", None), ("ssm", "us-east-2")])
    assert set(clients._clients) == {("s3", "eu-west-1"), ("ssm", "us-east-2")}


def test_prepare_without_credentials_leaves_it_to_one_process(monkeypatch, tmp_path) -> None:
    """No keys anywhere: prepare says no; the one-process fetch reports it per reference."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert not aws.Clients(Deadline(10), 4).prepare([("s3", None)])
