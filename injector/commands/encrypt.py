"""``injector encrypt --kms-key-id KEY [--context JSON] [--from-file PATH]``.

Encrypts a value read from stdin (or a file) with KMS and prints the ``ref+awskms://``
reference that decrypts it: standard base64, and the encryption context URL-encoded.
Only the reference reaches stdout; the value is never printed.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from injector import log
from injector.commands.put import read_value
from injector.deadline import Deadline
from injector.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

FLAGS: dict[str, bool] = {"--kms-key-id": True, "--context": True, "--from-file": True}


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Encrypt stdin under the key and print the reference."""
    if args:
        raise UsageError("encrypt takes no arguments (the value comes from stdin)")
    key = flags.get("--kms-key-id")
    if not key:
        raise UsageError("encrypt needs --kms-key-id KEY")
    encryption_context = parse_context(flags.get("--context"))
    value = read_value(flags.get("--from-file"), config)
    log.register_secret(value)
    blob = _encrypt(config, key, value, encryption_context)
    log.write_stdout(reference(blob, encryption_context, key_region(key)) + "\n")
    log.info("encrypted", key=key, bytes=len(value))
    return 0


def parse_context(raw: str | None) -> dict[str, str]:
    """Parse ``--context`` with the backend's rules; a bad one is a usage error."""
    from injector.backends.kms import context  # noqa: PLC0415 - imports botocore

    try:
        return context(raw)
    except ConfigError as exc:
        raise UsageError(f"--context: {exc.message}") from None


def reference(blob: bytes, encryption_context: Mapping[str, str], region: str | None = None) -> str:
    """Render the ``ref+awskms://`` reference for *blob*, its context and its key's region."""
    params: list[str] = []
    if encryption_context:
        compact = json.dumps(dict(encryption_context), separators=(",", ":"), sort_keys=True)
        params.append("context=" + quote(compact, safe=""))
    if region:
        params.append("region=" + quote(region, safe=""))
    text = "ref+awskms://" + base64.b64encode(blob).decode("ascii")
    return text + ("?" + "&".join(params) if params else "")


def _encrypt(config: Config, key: str, value: bytes, encryption_context: dict[str, str]) -> bytes:
    from injector.backends import kms  # noqa: PLC0415 - imports botocore
    from injector.backends.aws import Clients  # noqa: PLC0415

    clients = Clients(
        Deadline(config.timeout),
        1,
        max_bytes=config.max_secret_bytes,
        direct_http=not config.stock_http,
    )
    return kms.encrypt(key, value, encryption_context, clients)


def key_region(key: str) -> str | None:
    """Return the region a key ARN names, else None (the default region)."""
    from injector.backends.kms import key_region as region  # noqa: PLC0415 - imports botocore

    return region(key)
