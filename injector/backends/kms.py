"""KMS: Decrypt a ciphertext carried in the reference itself, one call per ciphertext.

``ref+awskms://BASE64[?context=URL_ENCODED_JSON&key=KEY&alg=ALGORITHM]``: standard or
URL-safe base64, with or without padding (also percent-encoded). A ciphertext that is not
base64, that KMS cannot decrypt, or whose encryption context does not match is bad data (65).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from injector.backends import attributed, guarded
from injector.backends.aws import BadAnswerError, call, too_large
from injector.errors import BadDataError, ConfigError
from injector.references import display

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source


def label(source: Source) -> str:
    """Render the reference for messages (long ciphertexts shortened)."""
    return display(f"ref+awskms://{source.name}")


def ciphertext(text: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raise BadDataError otherwise."""
    compact = "".join(unquote(text).split())
    compact = compact.replace("-", "+").replace("_", "/").rstrip("=")
    compact += "=" * (-len(compact) % 4)
    try:
        blob = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise BadDataError("the ciphertext is not valid base64") from None
    if not blob:
        raise BadDataError("the ciphertext is empty")
    return blob


MAX_CONTEXT = 8192  # bytes: more than any encryption context KMS accepts


def context(raw: str | None) -> dict[str, str]:
    """Parse the encryption context: a JSON object of strings; raise ConfigError otherwise."""
    if not raw:
        return {}
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_CONTEXT:
        raise ConfigError(f"context is longer than {MAX_CONTEXT} bytes")
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        raise ConfigError("context is not valid JSON (URL-encode it)") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise ConfigError("context must be a JSON object of strings")
    return parsed


def request(source: Source) -> dict[str, object]:
    """Build the Decrypt parameters for *source*."""
    params: dict[str, object] = {"CiphertextBlob": ciphertext(source.name)}
    if encryption_context := context(source.option("context")):
        params["EncryptionContext"] = encryption_context
    if key := source.option("key"):
        params["KeyId"] = key
    if algorithm := source.option("alg"):
        params["EncryptionAlgorithm"] = algorithm
    return params


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """One Decrypt per ciphertext: KMS has no batch call."""
    return [_batch(source, clients) for source in sources]


def _batch(source: Source, clients: Clients) -> Batch:
    return guarded([source], label, lambda: {source: decrypt(source, clients)})


def decrypt(source: Source, clients: Clients) -> bytes:
    """Decrypt one ciphertext; an answer without a Plaintext is a bad answer."""
    params = request(source)
    client = clients.get("kms", source.region)
    return bytes(call(clients.deadline, client.decrypt, params, _plaintext(clients.max_bytes)))


def _plaintext(cap: int) -> Callable[[dict[str, Any]], bytes]:
    def check(answer: dict[str, Any]) -> bytes:
        plaintext = answer.get("Plaintext")
        if not isinstance(plaintext, bytes) or not plaintext:
            raise BadAnswerError("Decrypt answered without a Plaintext")
        if len(plaintext) > cap:
            raise too_large(cap)
        return plaintext

    return check


def encrypt(key: str, value: bytes, encryption_context: dict[str, str], clients: Clients) -> bytes:
    """Encrypt *value* under *key*; raise the error naming the key (never the value)."""
    params: dict[str, object] = {"KeyId": key, "Plaintext": value}
    if encryption_context:
        params["EncryptionContext"] = encryption_context

    def run() -> bytes:
        client = clients.get("kms", key_region(key))
        return bytes(call(clients.deadline, client.encrypt, params, _blob))

    return attributed(f"kms key {key}", run)


def _blob(answer: dict[str, Any]) -> bytes:
    blob = answer.get("CiphertextBlob")
    if not isinstance(blob, bytes) or not blob:
        raise BadAnswerError("Encrypt answered without a CiphertextBlob")
    return blob


def key_region(key: str) -> str | None:
    """Return the region a key ARN names, else None (the default region)."""
    parts = key.split(":")
    if key.startswith("arn:") and len(parts) > 3 and parts[3]:  # noqa: PLR2004 - ARN fields
        return parts[3]
    return None
