"""S3 objects (plain, SSE-S3 and SSE-KMS alike: S3 decrypts), one GetObject per object.

botocore does not retry a body that breaks off while it is being read, so this module
reads the whole body, checks it against Content-Length, and retries the call itself.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from botocore import exceptions as boto

from injector.backends.errors import translate
from injector.errors import ConfigError, InjectorError, UnavailableError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

BODY_ATTEMPTS = 4
_BODY_ERRORS = (
    boto.IncompleteReadError,
    boto.ResponseStreamingError,
    boto.ReadTimeoutError,
    boto.ConnectionClosedError,
)
SSE_C_HINT = "the object uses SSE-C (a customer-provided key), which injector does not support"


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """One call per object: S3 has no batch read."""
    return [_batch(source, clients) for source in sources]


def _batch(source: Source, clients: Clients) -> Batch:
    def run() -> dict[Source, bytes | InjectorError]:
        try:
            return {source: fetch(source, clients)}
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
            return {source: translate(exc, f"ref+s3://{source.name}")}

    return run


def fetch(source: Source, clients: Clients) -> bytes:
    """Fetch one object's bytes, retrying a body that arrives truncated."""
    bucket, _, key = source.name.partition("/")
    label = f"ref+s3://{source.name}"
    client = clients.get("s3", source.region, reference=label)
    params: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version := source.option("version_id"):
        params["VersionId"] = version
    for attempt in range(1, BODY_ATTEMPTS + 1):
        clients.deadline.check(label)
        try:
            return _read(client, params, label)
        except _BODY_ERRORS as exc:
            if attempt == BODY_ATTEMPTS:
                msg = f"object body kept breaking off ({type(exc).__name__})"
                raise UnavailableError(msg, reference=label) from None
            time.sleep(min(clients.deadline.remaining(), _backoff(attempt)))
    raise AssertionError  # pragma: no cover - the loop always returns or raises


def _read(client: Any, params: dict[str, str], label: str) -> bytes:  # noqa: ANN401
    try:
        response = client.get_object(**params)
    except boto.ClientError as exc:
        if _is_sse_c(exc):
            raise ConfigError(SSE_C_HINT, reference=label) from None
        raise
    body = response["Body"]
    try:
        data: bytes = body.read()
    finally:
        body.close()
    expected = response.get("ContentLength")
    if expected is not None and len(data) != expected:
        raise boto.IncompleteReadError(actual_bytes=len(data), expected_bytes=expected)
    return data


def _is_sse_c(exc: boto.ClientError) -> bool:
    error = exc.response.get("Error", {})
    message = str(error.get("Message", ""))
    return error.get("Code") == "InvalidRequest" and "Server Side Encryption" in message


def _backoff(attempt: int) -> float:
    return float(random.uniform(0, min(2.0, 0.1 * 2**attempt)))  # noqa: S311 - jitter only
