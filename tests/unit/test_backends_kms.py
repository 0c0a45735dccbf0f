"""The KMS backend against botocore's Stubber: base64 forms, context, error mapping."""

from __future__ import annotations

import base64

import botocore.session
import pytest
from botocore.stub import Stubber

from injector.backends import kms
from injector.deadline import Deadline
from injector.errors import AccessDeniedError, BadDataError, ConfigError
from injector.references import parse

pytestmark = pytest.mark.unit
BLOB = bytes(range(250, 256)) + b"\xfb\xff\xfe" * 5


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
        "kms",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )
    return client, Stubber(client)


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(BLOB).decode(),
        base64.urlsafe_b64encode(BLOB).decode(),
        base64.urlsafe_b64encode(BLOB).decode().rstrip("="),
        base64.b64encode(BLOB).decode().replace("+", "%2B").replace("/", "%2F"),
    ],
)
def test_every_base64_form_decodes(text: str) -> None:
    """Standard, URL-safe, unpadded and percent-encoded base64 all give the same bytes."""
    assert kms.ciphertext(text) == BLOB


@pytest.mark.parametrize("text", ["not base64!", "A", ""])
def test_bad_base64_is_bad_data(text: str) -> None:
    """A ciphertext that is not base64 is bad data (65)."""
    with pytest.raises(BadDataError):
        kms.ciphertext(text)


def test_request_carries_context_key_and_algorithm() -> None:
    """The context (URL-encoded JSON), key and alg become Decrypt parameters."""
    ref = parse(
        "ref+awskms://"
        + base64.b64encode(BLOB).decode()
        + "?context=%7B%22app%22%3A%22web%22%7D&key=alias/k&alg=SYMMETRIC_DEFAULT"
    )
    assert kms.request(ref.source) == {
        "CiphertextBlob": BLOB,
        "EncryptionContext": {"app": "web"},
        "KeyId": "alias/k",
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }


@pytest.mark.parametrize("raw", ["{bad", "[1]", '{"a": 1}'])
def test_bad_context_is_config_error(raw: str) -> None:
    """A context that is not a JSON object of strings is a configuration error."""
    with pytest.raises(ConfigError):
        kms.context(raw)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("InvalidCiphertextException", BadDataError),
        ("IncorrectKeyException", BadDataError),
        ("DisabledException", AccessDeniedError),
        ("KMSInvalidStateException", AccessDeniedError),
        ("AccessDeniedException", AccessDeniedError),
    ],
)
def test_decrypt_errors_map_to_exit_codes(code: str, kind: type) -> None:
    """Wrong context/corrupt data is 65; a disabled or unusable key is denied, never a crash."""
    client, stub = _stubbed()
    stub.add_client_error("decrypt", code)
    source = parse("ref+awskms://" + base64.b64encode(BLOB).decode()).source
    with stub:
        (batch,) = kms.batches([source], FakeClients(client))
        outcome = batch()[source]
    assert isinstance(outcome, kind)
    assert outcome.reference is not None
    assert outcome.reference.startswith("ref+awskms://")


def test_plaintext_is_returned_as_bytes() -> None:
    """A successful Decrypt gives the plaintext bytes, NUL bytes included."""
    client, stub = _stubbed()
    stub.add_response("decrypt", {"Plaintext": b"a\x00b"}, {"CiphertextBlob": BLOB})
    source = parse("ref+awskms://" + base64.urlsafe_b64encode(BLOB).decode()).source
    with stub:
        (batch,) = kms.batches([source], FakeClients(client))
        assert batch() == {source: b"a\x00b"}
