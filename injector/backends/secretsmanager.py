"""Secrets Manager: BatchGetSecretValue for unpinned secrets, GetSecretValue otherwise.

Secrets without a version pin are read 20 at a time with BatchGetSecretValue, whose
per-secret ``Errors`` are reported for exactly those secrets. When the batch call itself is
denied or not supported (a policy that grants only GetSecretValue, an older endpoint), and
for secrets the batch answer leaves out, each secret is read with GetSecretValue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import exceptions as boto

from injector.backends.aws import call
from injector.backends.errors import translate
from injector.errors import AccessDeniedError, BadDataError, InjectorError

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
    def run() -> Outcome:
        return {source: get_one(source, clients)}

    return run


def get_one(source: Source, clients: Clients) -> bytes | InjectorError:
    """Read one secret with GetSecretValue, honouring its version pins."""
    try:
        clients.deadline.check(label(source))
        client = clients.get("secretsmanager", source.region, reference=label(source))
        params = {"SecretId": source.name}
        if version_id := source.option("version_id"):
            params["VersionId"] = version_id
        if stage := source.option("version_stage"):
            params["VersionStage"] = stage
        return value_of(call(clients.deadline, client.get_secret_value, **params), source)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
        return translate(exc, label(source))


def value_of(answer: dict[str, Any], source: Source) -> bytes | InjectorError:
    """Return the secret's bytes: SecretBinary as is, SecretString as UTF-8."""
    binary = answer.get("SecretBinary")
    if binary is not None:
        return bytes(binary)
    text = answer.get("SecretString")
    if text is not None:
        return str(text).encode("utf-8")
    return BadDataError("the secret version holds no value", reference=label(source))


def _batch(region: str | None, group: list[Source], clients: Clients) -> Batch:
    def run() -> Outcome:
        try:
            clients.deadline.check(label(group[0]))
            client = clients.get("secretsmanager", region, reference=label(group[0]))
            names = [s.name for s in group]
            answer = call(clients.deadline, client.batch_get_secret_value, SecretIdList=names)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
            if not _falls_back(exc):
                error = translate(exc, label(group[0]))
                return {s: type(error)(error.message, reference=label(s)) for s in group}
            answer = {}
        outcome = _outcomes(group, answer)
        for source in group:
            if source not in outcome:
                outcome[source] = get_one(source, clients)
        return outcome

    return run


def _falls_back(exc: Exception) -> bool:
    """Tell whether a failed batch call should be retried secret by secret."""
    if not isinstance(exc, boto.ClientError):
        return False
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return isinstance(translate(exc, ""), AccessDeniedError) or code in FALLBACK_CODES


def _outcomes(group: list[Source], answer: dict[str, Any]) -> Outcome:
    outcome: Outcome = {}
    for source in group:
        match = _find(source.name, answer.get("SecretValues", []))
        if match is not None:
            outcome[source] = value_of(match, source)
    for error in answer.get("Errors", []):
        for source in group:
            if source not in outcome and error.get("SecretId") == source.name:
                outcome[source] = _error(error, source)
    return outcome


def _find(secret_id: str, values: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Find *secret_id*'s answer by name, full ARN, or ARN without AWS's random suffix."""
    for value in values:
        arn = str(value.get("ARN", ""))
        if secret_id in (value.get("Name"), arn):
            return value
        if arn.startswith(secret_id + "-") and len(arn) == len(secret_id) + ARN_SUFFIX:
            return value
    return None


def _error(error: dict[str, Any], source: Source) -> InjectorError:
    response = {"Error": {"Code": error.get("ErrorCode", ""), "Message": error.get("Message", "")}}
    return translate(boto.ClientError(response, "BatchGetSecretValue"), label(source))
