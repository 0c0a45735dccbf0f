"""S3 objects (plain, SSE-S3 and SSE-KMS alike: S3 decrypts), one GetObject per object.

The body is read in chunks inside :func:`injector.backends.aws.call`, so a body that breaks
off is asked for again like any other cut-short answer; an object larger than the cap
(``INJECTOR_MAX_SECRET_BYTES``) is refused from its Content-Length, or at the cap while
reading, never buffered past it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import exceptions as boto

from injector.backends import attributed, guarded
from injector.backends.aws import BrokenBodyError, call, too_large
from injector.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

CHUNK = 64 * 1024
_BODY_ERRORS = (
    boto.IncompleteReadError,
    boto.ResponseStreamingError,
    boto.ReadTimeoutError,
    boto.ConnectionClosedError,
)
SSE_C_HINT = "the object uses SSE-C (a customer-provided key), which injector does not support"


def label(source: Source) -> str:
    """Render the reference for messages."""
    return f"ref+s3://{source.name}"


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """One call per object: S3 has no batch read."""
    return [_batch(source, clients) for source in sources]


def _batch(source: Source, clients: Clients) -> Batch:
    return guarded([source], label, lambda: {source: fetch(source, clients)})


def fetch(source: Source, clients: Clients) -> bytes:
    """Fetch one object's bytes, asking again when its body arrives cut short."""
    bucket, _, key = source.name.partition("/")
    client = clients.get("s3", source.region)
    params: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version := source.option("version_id"):
        params["VersionId"] = version
    try:
        data: bytes = call(
            clients.deadline, client.get_object, params, lambda r: read(r, clients.max_bytes)
        )
    except boto.ClientError as exc:
        if _is_sse_c(exc):
            raise ConfigError(SSE_C_HINT) from None
        raise
    return data


def read(response: dict[str, Any], cap: int) -> bytes:
    """Read a GetObject body in chunks, refusing it at *cap* bytes; check its length."""
    expected = response.get("ContentLength")
    body = response["Body"]
    try:
        if isinstance(expected, int) and expected > cap:
            raise too_large(cap)
        chunks: list[bytes] = []
        size = 0
        while chunk := _chunk(body, min(CHUNK, cap + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                raise too_large(cap)
    finally:
        body.close()
    if isinstance(expected, int) and size != expected:
        raise boto.IncompleteReadError(actual_bytes=size, expected_bytes=expected)
    return b"".join(chunks)


def _chunk(body: Any, amount: int) -> bytes:  # noqa: ANN401 - botocore StreamingBody
    try:
        data: bytes = body.read(amount)
    except _BODY_ERRORS as exc:
        raise BrokenBodyError(type(exc).__name__) from None
    return data


def _is_sse_c(exc: boto.ClientError) -> bool:
    error = exc.response.get("Error", {})
    message = str(error.get("Message", ""))
    return error.get("Code") == "InvalidRequest" and "Server Side Encryption" in message


def store(source: Source, value: bytes, clients: Clients, kms_key: str | None) -> None:
    """PutObject *value*, with SSE-KMS under *kms_key* when given; raise naming the reference."""
    bucket, _, name = source.name.partition("/")
    params: dict[str, Any] = {"Bucket": bucket, "Key": name, "Body": value}
    if kms_key:
        params |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}

    def put() -> None:
        call(clients.deadline, clients.get("s3", source.region).put_object, params)

    attributed(label(source), put)
