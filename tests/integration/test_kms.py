"""KMS ciphertext references and ``injector encrypt`` against the moto server."""

from __future__ import annotations

import base64
import os

import pytest

from tests.support import runner
from tests.support.runner import child_env
from tests.support.runner import run_with as run

pytestmark = pytest.mark.integration


@pytest.fixture
def kms(moto):
    """Return a KMS client on the moto server."""
    return moto.client("kms")


@pytest.fixture
def key(kms) -> str:
    """Create a symmetric key and return its id."""
    return str(kms.create_key()["KeyMetadata"]["KeyId"])


CONTEXT = "%7B%22app%22%3A%22web%22%7D"  # {"app":"web"}


def test_base64_forms_and_context(aws_env, kms, key) -> None:
    """Standard, URL-safe and unpadded base64 decrypt with the URL-encoded context."""
    blob = kms.encrypt(KeyId=key, Plaintext=b"kms\x01plain=", EncryptionContext={"app": "web"})[
        "CiphertextBlob"
    ]
    forms = {
        "STD": base64.b64encode(blob).decode(),
        "URL": base64.urlsafe_b64encode(blob).decode(),
        "BARE": base64.urlsafe_b64encode(blob).decode().rstrip("="),
    }
    extra = {name: f"ref+awskms://{text}?context={CONTEXT}" for name, text in forms.items()}
    extra["KEYED"] = (
        f"ref+awskms://{forms['STD']}?context={CONTEXT}&key={key}&alg=SYMMETRIC_DEFAULT"
    )
    env = child_env(run(aws_env, extra, secrets=(b"kms\x01plain",)))
    assert {env[name.encode()] for name in extra} == {b"kms\x01plain="}


def test_json_pointer(aws_env, kms, key) -> None:
    """A JSON pointer selects a field of the plaintext."""
    blob = kms.encrypt(KeyId=key, Plaintext=b'{"token": "tk-1"}')["CiphertextBlob"]
    env = child_env(run(aws_env, {"T": f"ref+awskms://{base64.b64encode(blob).decode()}#/token"}))
    assert env[b"T"] == b"tk-1"


def test_wrong_context_is_65(aws_env, kms, key) -> None:
    """A ciphertext decrypted under the wrong encryption context is bad data (65)."""
    blob = kms.encrypt(KeyId=key, Plaintext=b"ctx-bound", EncryptionContext={"app": "web"})[
        "CiphertextBlob"
    ]
    text = base64.b64encode(blob).decode()
    proc = run(
        aws_env,
        {"X": f"ref+awskms://{text}?context=%7B%22app%22%3A%22db%22%7D"},
        "true",
        secrets=(b"ctx-bound",),
    )
    assert proc.returncode == 65, proc.stderr.decode()
    assert "ref+awskms://" in proc.stderr.decode()


@pytest.mark.parametrize("text", ["bm90IGEgY2lwaGVydGV4dA==", "***not-base64***"])
def test_corrupted_ciphertext_is_65(aws_env, kms, text) -> None:
    """Garbage (valid base64 or not) is bad data (65), not a crash."""
    proc = run(aws_env, {"X": f"ref+awskms://{text}"}, "true")
    assert proc.returncode == 65, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()


@pytest.mark.parametrize("code", ["DisabledException", "KMSInvalidStateException"])
def test_disabled_key_is_denied_not_a_crash(aws_env, kms, key, proxy, code) -> None:
    """A disabled (or pending-deletion) key is exit 77 with one error line, no traceback."""
    blob = kms.encrypt(KeyId=key, Plaintext=b"disabled-key-value")["CiphertextBlob"]
    proxy.add_rule(operation="Decrypt", error=code, status=400)
    proc = run(
        {**aws_env, "AWS_ENDPOINT_URL": proxy.url},
        {"X": f"ref+awskms://{base64.b64encode(blob).decode()}"},
        "true",
    )
    assert proc.returncode == 77, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    assert code in proc.stderr.decode()


def test_encrypt_then_exec_round_trip(aws_env, key) -> None:
    """``injector encrypt`` prints a reference that exec turns back into the value."""
    value = b"round trip \xc3\xa9 = value\n"
    env = {**aws_env, "PATH": os.environ["PATH"]}
    made = runner.run(
        env, "encrypt", "--kms-key-id", key, "--context", '{"team": "a b+c"}', stdin=value
    )
    assert made.returncode == 0, made.stderr.decode()
    assert value not in made.stdout
    assert value.strip() not in made.stderr
    reference = made.stdout.decode().strip()
    assert reference.startswith("ref+awskms://")
    assert "?context=" in reference
    assert child_env(run(aws_env, {"V": reference}))[b"V"] == value


def test_encrypt_needs_a_key(aws_env) -> None:
    """Without --kms-key-id, encrypt is a usage error and prints nothing."""
    env = {**aws_env, "PATH": os.environ["PATH"]}
    proc = runner.run(env, "encrypt", stdin=b"v")
    assert (proc.returncode, proc.stdout) == (64, b"")
