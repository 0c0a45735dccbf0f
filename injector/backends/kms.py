"""KMS: Decrypt a ciphertext carried in the reference itself, one call per ciphertext.

``ref+awskms://BASE64[?context=URL_ENCODED_JSON&key=KEY&alg=ALGORITHM]``: standard or
URL-safe base64, with or without padding (also percent-encoded). A ciphertext that is not
base64, that KMS cannot decrypt, or whose encryption context does not match is bad data (65).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING
from urllib.parse import unquote

from injector.backends.aws import call
from injector.backends.errors import translate
from injector.errors import BadDataError, ConfigError, InjectorError
from injector.references import display

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

Outcome = dict["Source", "bytes | InjectorError"]


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


def context(raw: str | None) -> dict[str, str]:
    """Parse the encryption context: a JSON object of strings; raise ConfigError otherwise."""
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
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
    def run() -> Outcome:
        return {source: decrypt(source, clients)}

    return run


def decrypt(source: Source, clients: Clients) -> bytes | InjectorError:
    """Decrypt one ciphertext, or return the error that explains why not."""
    try:
        params = request(source)
        clients.deadline.check(label(source))
        client = clients.get("kms", source.region, reference=label(source))
        plaintext: bytes = call(clients.deadline, client.decrypt, **params)["Plaintext"]
    except InjectorError as exc:
        return type(exc)(exc.message, reference=label(source))
    except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
        return translate(exc, label(source))
    return plaintext
