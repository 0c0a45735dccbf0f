"""``injector put REFERENCE [--kms-key-id KEY | --no-kms] [--from-file PATH]``.

The operator's side: store a value read from stdin (or a file), never from argv.
- ``ref+s3://BUCKET/KEY``: PutObject with SSE-KMS under ``--kms-key-id``; without a key it
  refuses (64) unless ``--no-kms`` says the bucket's default encryption is enough.
- ``ref+awsssm://PATH``: PutParameter as a SecureString (overwriting), under the key if given.
- ``ref+awssecrets://NAME``: PutSecretValue, or CreateSecret when it does not exist yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from injector import log, references
from injector.deadline import Deadline
from injector.errors import BadDataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from injector.config import Config
    from injector.references import Reference

FLAGS: dict[str, bool] = {"--kms-key-id": True, "--no-kms": False, "--from-file": True}


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Store one value at the reference; print nothing on stdout."""
    reference = _target(args, flags)
    value = read_value(flags.get("--from-file"), config)
    log.register_secret(value)
    from injector.backends.aws import Clients  # noqa: PLC0415 - imports botocore
    from injector.backends.errors import translate  # noqa: PLC0415

    clients = Clients(Deadline(config.timeout), 1)
    label = str(reference)
    try:
        client = clients.get(reference.source.service, reference.source.region, reference=label)
        _STORES[reference.source.service](client, reference, value, flags.get("--kms-key-id"))
    except Exception as exc:  # noqa: BLE001 - reported with its exit code, without the value
        raise translate(exc, label) from None
    log.info("stored", reference=label, store=reference.source.service, bytes=len(value))
    return 0


def _target(args: Sequence[str], flags: Mapping[str, str | None]) -> Reference:
    """Parse and vet the one REFERENCE argument before anything is read or sent."""
    if len(args) != 1:
        raise UsageError("put takes exactly one REFERENCE (the value comes from stdin)")
    reference = references.parse(args[0])
    source = reference.source
    if reference.pointer is not None or source.options or source.auth:
        msg = "put needs a plain reference: no '#' pointer, version, role_arn/profile or options"
        raise UsageError(msg)
    if source.service == "kms":
        raise UsageError("a KMS reference holds its value: use 'injector encrypt'")
    key, no_kms = flags.get("--kms-key-id"), "--no-kms" in flags
    if key is not None and no_kms:
        raise UsageError("give either --kms-key-id or --no-kms, not both")
    if source.service == "s3" and not key and not no_kms:
        msg = "S3 put needs --kms-key-id KEY (SSE-KMS), or --no-kms to rely on bucket defaults"
        raise UsageError(msg)
    return reference


def read_value(path: str | None, config: Config, deadline: Deadline | None = None) -> bytes:
    """Read the value from *path*, or stdin, within the size cap and deadline; refuse empty."""
    from injector import inputs  # noqa: PLC0415 - only the commands that read a value

    label = "stdin" if path is None else "--from-file"
    limit = config.max_secret_bytes
    value = inputs.read(
        path, limit=limit, deadline=deadline or Deadline(config.timeout), label=label
    )
    if not value:
        raise UsageError("no value: pipe it on stdin or give --from-file PATH")
    return value


def _s3(client: Any, reference: Reference, value: bytes, key: str | None) -> None:  # noqa: ANN401
    bucket, _, name = reference.source.name.partition("/")
    params: dict[str, Any] = {"Bucket": bucket, "Key": name, "Body": value}
    if key:
        params |= {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key}
    client.put_object(**params)


def _ssm(client: Any, reference: Reference, value: bytes, key: str | None) -> None:  # noqa: ANN401
    params: dict[str, Any] = {
        "Name": reference.source.name,
        "Value": _text(value, reference),
        "Type": "SecureString",
        "Overwrite": True,
    }
    if key:
        params["KeyId"] = key
    client.put_parameter(**params)


def _secretsmanager(
    client: Any,  # noqa: ANN401 - botocore client
    reference: Reference,
    value: bytes,
    key: str | None,
) -> None:
    payload: dict[str, str | bytes]
    try:
        payload = {"SecretString": value.decode("utf-8")}
    except UnicodeDecodeError:
        payload = {"SecretBinary": value}
    name = reference.source.name
    try:
        client.put_secret_value(SecretId=name, **payload)
    except client.exceptions.ResourceNotFoundException:
        extra = {"KmsKeyId": key} if key else {}
        client.create_secret(Name=name, **payload, **extra)


def _text(value: bytes, reference: Reference) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        msg = "an SSM parameter holds text: the value is not UTF-8 (use S3 or Secrets Manager)"
        raise BadDataError(msg, reference=str(reference)) from None


_STORES: dict[str, Callable[[Any, Reference, bytes, str | None], None]] = {
    "s3": _s3,
    "ssm": _ssm,
    "secretsmanager": _secretsmanager,
}
