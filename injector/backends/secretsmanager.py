"""Secrets Manager: BatchGetSecretValue for unpinned secrets, GetSecretValue otherwise.

Secrets without a version pin are read 20 at a time with BatchGetSecretValue, whose
per-secret ``Errors`` are reported for exactly those secrets. When the batch call itself is
denied or not supported (a policy that grants only GetSecretValue, an older endpoint), and
for secrets the batch answer leaves out, each secret is read with GetSecretValue.

A secret named by its ARN (possibly of another account) is sent as that ARN and only an
answer carrying that ARN counts. An answer that is not an object, or a version that holds
neither SecretString nor SecretBinary, is a bad answer (asked again, then 69).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import exceptions as boto

from injector.backends import attributed, guarded
from injector.backends.aws import BadAnswerError, call, text, too_large
from injector.backends.errors import translate
from injector.errors import AccessDeniedError, InjectorError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

MAX_IDS = 20
ARN_SUFFIX = 7  # "-" and the six random characters AWS appends to a secret's ARN
FALLBACK_CODES = frozenset(
    {"UnknownOperationException", "InvalidAction", "NotImplemented", "UnsupportedOperation"}
)
Outcome = dict["Source", "bytes | InjectorError"]


def label(source: Source) -> str:
    """Render the reference for messages."""
    return f"ref+awssecrets://{source.name}"


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """Unpinned secrets in calls of 20 per region; pinned ones one call each."""
    result: list[Batch] = []
    unpinned: dict[str | None, list[Source]] = {}
    for source in sources:
        if source.options:
            result.append(_single(source, clients))
        else:
            unpinned.setdefault(source.region, []).append(source)
    for region, group in unpinned.items():
        chunks = (group[start : start + MAX_IDS] for start in range(0, len(group), MAX_IDS))
        result.extend(_batch(region, chunk, clients) for chunk in chunks)
    return result


def _single(source: Source, clients: Clients) -> Batch:
    return guarded([source], label, lambda: {source: get_one(source, clients)})


def get_one(source: Source, clients: Clients) -> bytes | InjectorError:
    """Read one secret with GetSecretValue, honouring its version pins."""
    client = clients.get("secretsmanager", source.region)
    params = {"SecretId": source.name}
    if version_id := source.option("version_id"):
        params["VersionId"] = version_id
    if stage := source.option("version_stage"):
        params["VersionStage"] = stage

    def check(answer: Any) -> bytes | InjectorError:  # noqa: ANN401 - a parsed answer
        if not _is(source.name, answer):
            raise BadAnswerError("GetSecretValue answered for another secret")
        return value_of(answer, clients.max_bytes)

    result: bytes | InjectorError = call(clients.deadline, client.get_secret_value, params, check)
    return result


def value_of(answer: dict[str, Any], cap: int) -> bytes | InjectorError:
    """Return the secret's bytes: SecretBinary as is, SecretString as UTF-8."""
    binary = answer.get("SecretBinary")
    if isinstance(binary, bytes | bytearray):
        data = bytes(binary)
    elif "SecretString" in answer:
        data = text(answer["SecretString"], "the SecretString", empty=True).encode("utf-8")
    else:
        raise BadAnswerError("a secret version holds neither SecretString nor SecretBinary")
    return too_large(cap) if len(data) > cap else data


def _batch(region: str | None, group: list[Source], clients: Clients) -> Batch:
    return guarded(group, label, lambda: _batch_get(region, group, clients))


def _batch_get(region: str | None, group: list[Source], clients: Clients) -> Outcome:
    client = clients.get("secretsmanager", region)
    params = {"SecretIdList": [s.name for s in group]}
    try:
        outcome: Outcome = call(
            clients.deadline,
            client.batch_get_secret_value,
            params,
            lambda answer: _outcomes(group, answer, clients.max_bytes),
        )
    except boto.ClientError as exc:
        if not _falls_back(exc):
            raise
        outcome = {}
    for source in group:
        if source not in outcome:
            outcome.update(_single(source, clients)())
    return outcome


def _falls_back(exc: boto.ClientError) -> bool:
    """Tell whether a failed batch call should be retried secret by secret."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return isinstance(translate(exc), AccessDeniedError) or code in FALLBACK_CODES


def _outcomes(group: list[Source], answer: dict[str, Any], cap: int) -> Outcome:
    values, errors = answer.get("SecretValues"), answer.get("Errors", [])
    if not isinstance(values, list) or not isinstance(errors, list):
        raise BadAnswerError("BatchGetSecretValue answered without its SecretValues list")
    if not all(isinstance(item, dict) for item in [*values, *errors]):
        raise BadAnswerError("BatchGetSecretValue answered an item that is not an object")
    outcome: Outcome = {}
    for source in group:
        match = next((value for value in values if _is(source.name, value)), None)
        if match is not None:
            outcome[source] = value_of(match, cap)
    for error in errors:
        for source in group:
            if source not in outcome and error.get("SecretId") == source.name:
                outcome[source] = _error(error)
    return outcome


def _is(secret_id: str, value: dict[str, Any]) -> bool:
    """Tell whether *value* answers for *secret_id*: by name, or for an ARN by ARN only.

    A partial ARN (without AWS's random suffix) matches the full ARN it is the start of.
    """
    arn = str(value.get("ARN", ""))
    if not secret_id.startswith("arn:"):
        return secret_id == value.get("Name")
    if arn == secret_id:
        return True
    return arn.startswith(secret_id + "-") and len(arn) == len(secret_id) + ARN_SUFFIX


def _error(error: dict[str, Any]) -> InjectorError:
    response = {"Error": {"Code": error.get("ErrorCode", ""), "Message": error.get("Message", "")}}
    return translate(boto.ClientError(response, "BatchGetSecretValue"))


def store(source: Source, value: bytes, clients: Clients, kms_key: str | None) -> None:
    """PutSecretValue, or CreateSecret when the secret does not exist yet.

    One ClientRequestToken for every attempt makes a call asked again idempotent.
    """
    import uuid  # noqa: PLC0415 - write path only

    payload: dict[str, Any]
    try:
        payload = {"SecretString": value.decode("utf-8")}
    except UnicodeDecodeError:
        payload = {"SecretBinary": value}
    payload["ClientRequestToken"] = str(uuid.uuid4())

    def put() -> None:
        client = clients.get("secretsmanager", source.region)
        try:
            call(clients.deadline, client.put_secret_value, {"SecretId": source.name, **payload})
        except client.exceptions.ResourceNotFoundException:
            extra = {"KmsKeyId": kms_key} if kms_key else {}
            call(clients.deadline, client.create_secret, {"Name": source.name, **payload, **extra})

    attributed(label(source), put)
