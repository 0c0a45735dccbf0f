"""SSM Parameter Store: GetParameters, at most 10 names per call, SecureStrings decrypted.

A parameter is asked for as ``NAME``, ``NAME:VERSION`` or ``NAME:LABEL`` (a selector).
Selectors are de-duplicated per region and packed so that one call never names the same
parameter twice: the answer then maps back to the request by name alone, which also works
with stores that leave out the ``Selector`` field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from injector.backends.aws import call
from injector.backends.errors import translate
from injector.errors import ConfigError, InjectorError, SecretNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

MAX_NAMES = 10
Outcome = dict["Source", "bytes | InjectorError"]


def label(source: Source) -> str:
    """Render the reference for messages."""
    return f"ref+awsssm://{source.name.lstrip('/')}"


def selector(source: Source) -> str:
    """``NAME``, ``NAME:VERSION`` or ``NAME:LABEL``; raise ConfigError for a bad pin."""
    version, pin_label = source.option("version"), source.option("label")
    if version and pin_label:
        raise ConfigError("give either version or label, not both", reference=label(source))
    if version:
        if not version.isdigit():
            raise ConfigError("version must be a whole number", reference=label(source))
        return f"{source.name}:{version}"
    if pin_label:
        return f"{source.name}:{pin_label}"
    return source.name


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """Group *sources* by region, then into calls of at most 10 distinct selectors."""
    result: list[Batch] = []
    by_region: dict[str | None, dict[str, list[Source]]] = {}
    invalid: Outcome = {}
    for source in sources:
        try:
            key = selector(source)
        except ConfigError as exc:
            invalid[source] = exc
            continue
        by_region.setdefault(source.region, {}).setdefault(key, []).append(source)
    if invalid:
        result.append(lambda: invalid)
    for region, wanted in by_region.items():
        result.extend(_batch(region, chunk, clients) for chunk in pack(wanted))
    return result


def pack(wanted: dict[str, list[Source]]) -> list[dict[str, list[Source]]]:
    """Split selectors into chunks of at most 10 where no parameter name appears twice."""
    chunks: list[dict[str, list[Source]]] = []
    names: list[set[str]] = []
    for key, group in wanted.items():
        name = group[0].name
        for chunk, used in zip(chunks, names, strict=True):
            if len(chunk) < MAX_NAMES and name not in used:
                chunk[key] = group
                used.add(name)
                break
        else:
            chunks.append({key: group})
            names.append({name})
    return chunks


def _batch(region: str | None, chunk: dict[str, list[Source]], clients: Clients) -> Batch:
    def run() -> Outcome:
        first = next(iter(chunk.values()))[0]
        try:
            clients.deadline.check(label(first))
            client = clients.get("ssm", region, reference=label(first))
            response = call(
                clients.deadline, client.get_parameters, Names=list(chunk), WithDecryption=True
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
            return _failed(region, chunk, clients, exc)
        return _slash_retry(region, chunk, _outcomes(chunk, response), clients)

    return run


def _slash_retry(
    region: str | None, chunk: dict[str, list[Source]], outcome: Outcome, clients: Clients
) -> Outcome:
    """Retry names without a leading slash as ``/NAME``: an ARN's ``parameter/x`` means either."""
    missing = {
        key: group
        for key, group in chunk.items()
        if not key.startswith("/") and isinstance(outcome[group[0]], SecretNotFoundError)
    }
    if not missing:
        return outcome
    aliases = {s: s._replace(name="/" + s.name) for group in missing.values() for s in group}
    second = {"/" + key: [aliases[s] for s in group] for key, group in missing.items()}
    found = _batch(region, second, clients)()
    for source, alias in aliases.items():
        if isinstance(found.get(alias), bytes):
            outcome[source] = found[alias]
    return outcome


def _failed(
    region: str | None, chunk: dict[str, list[Source]], clients: Clients, exc: Exception
) -> Outcome:
    """Report a failed call; a rejected batch is retried name by name to isolate the culprit."""
    first = next(iter(chunk.values()))[0]
    error = translate(exc, label(first))
    if isinstance(error, ConfigError) and len(chunk) > 1:
        outcome: Outcome = {}
        for key, group in chunk.items():
            outcome.update(_batch(region, {key: group}, clients)())
        return outcome
    return {s: type(error)(error.message, reference=label(s)) for g in chunk.values() for s in g}


def _outcomes(chunk: dict[str, list[Source]], response: dict[str, Any]) -> Outcome:
    found: dict[str, bytes] = {}
    for parameter in response.get("Parameters", []):
        found[str(parameter["Name"])] = str(parameter.get("Value", "")).encode("utf-8")
    outcome: Outcome = {}
    for key, group in chunk.items():
        for source in group:
            value = found.get(source.name)
            if value is None:
                outcome[source] = SecretNotFoundError(_missing(key), reference=label(source))
            else:
                outcome[source] = value
    return outcome


def _missing(key: str) -> str:
    if ":" in key:
        return "parameter, version or label not found (InvalidParameters)"
    return "parameter not found (InvalidParameters)"
