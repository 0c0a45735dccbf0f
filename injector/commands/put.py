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
    from collections.abc import Mapping, Sequence

    from injector.config import Config
    from injector.references import Reference

FLAGS: dict[str, bool] = {"--kms-key-id": True, "--no-kms": False, "--from-file": True}


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Store one value at the reference; print nothing on stdout."""
    reference = _target(args, flags)
    value = read_value(flags.get("--from-file"), config)
    log.register_secret(value)
    store(config, reference, value, flags.get("--kms-key-id"))
    log.info("stored", reference=str(reference), store=reference.source.service, bytes=len(value))
    return 0


def store(config: Config, reference: Reference, value: bytes, kms_key: str | None) -> None:
    """Hand *value* to the reference's backend, which writes it through the shared call path."""
    from injector import backends  # noqa: PLC0415 - the backends import botocore
    from injector.backends.aws import Clients  # noqa: PLC0415

    source = reference.source
    clients = Clients(
        Deadline(config.timeout),
        1,
        max_bytes=config.max_secret_bytes,
        direct_http=not config.stock_http,
    )
    stored: Any = value if source.service != "ssm" else _text(value, reference)
    backends.load(source.service).store(source, stored, clients, kms_key)  # type: ignore[attr-defined]


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


def _text(value: bytes, reference: Reference) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        msg = "an SSM parameter holds text: the value is not UTF-8 (use S3 or Secrets Manager)"
        raise BadDataError(msg, reference=str(reference)) from None
