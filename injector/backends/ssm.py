"""SSM Parameter Store: GetParameters, at most 10 names per call, SecureStrings decrypted.

A parameter is asked for as ``NAME``, ``NAME:VERSION`` or ``NAME:LABEL`` (a selector), or as
its full ARN (possibly of another account that shares it), which is sent as it is.
Selectors are de-duplicated per region and packed so that one call never names the same
parameter twice; the answer then maps back to the request by name (by ARN for an ARN), and a
``Selector`` or ``Version`` in the answer must agree with the one asked for.

Every requested selector must come back either as a parameter with a value or in
``InvalidParameters`` (the only "not found"); any other answer is a bad answer, asked again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import exceptions as boto

from injector.backends import guarded
from injector.backends.aws import BadAnswerError, call, text, too_large
from injector.backends.errors import translate
from injector.errors import ConfigError, InjectorError, SecretNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

MAX_NAMES = 10
Outcome = dict["Source", "bytes | InjectorError"]
Chunk = dict[str, list["Source"]]
_ARN_RESOURCE = ":parameter/"


def label(source: Source) -> str:
    """Render the reference for messages (an ARN as it is)."""
    if source.name.startswith("arn:"):
        return source.name
    return f"ref+awsssm://{source.name.lstrip('/')}"


def split(key: str) -> tuple[str, str]:
    """Split a selector into the parameter (name or ARN) and its ``VERSION``/``LABEL`` part."""
    if key.startswith("arn:"):
        head, sep, resource = key.partition(_ARN_RESOURCE)
        name, _, pin = resource.partition(":")
        return head + sep + name, pin
    name, _, pin = key.partition(":")
    return name, pin


def selector(source: Source) -> str:
    """``NAME``, ``NAME:VERSION`` or ``NAME:LABEL``; raise ConfigError for a bad pin."""
    version, pin_label = source.option("version"), source.option("label")
    if version and pin_label:
        raise ConfigError("give either version or label, not both")
    if (version or pin_label) and split(source.name)[1]:
        raise ConfigError("give the version or label either after ':' or as an option")
    if version:
        if not (version.isascii() and version.isdigit()):
            raise ConfigError("version must be a whole number")
        return f"{source.name}:{version}"
    if pin_label:
        return f"{source.name}:{pin_label}"
    return source.name


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """Group *sources* by region, then into calls of at most 10 distinct selectors."""
    result: list[Batch] = []
    by_region: dict[str | None, Chunk] = {}
    for source in sources:
        try:
            key = selector(source)
        except ConfigError as exc:
            result.append(_refused(source, exc))
            continue
        by_region.setdefault(source.region, {}).setdefault(key, []).append(source)
    for region, wanted in by_region.items():
        result.extend(_batch(region, chunk, clients) for chunk in pack(wanted))
    return result


def _refused(source: Source, error: ConfigError) -> Batch:
    return guarded([source], label, lambda: {source: error})


def pack(wanted: Chunk) -> list[Chunk]:
    """Split selectors into chunks of at most 10 where no parameter path appears twice."""
    chunks: list[Chunk] = []
    names: list[set[str]] = []
    for key, group in wanted.items():
        name = _path(key)
        for chunk, used in zip(chunks, names, strict=True):
            if len(chunk) < MAX_NAMES and name not in used:
                chunk[key] = group
                used.add(name)
                break
        else:
            chunks.append({key: group})
            names.append({name})
    return chunks


def _path(key: str) -> str:
    """Return the parameter's path without selector, account or leading slash.

    A name and an ARN of the same path (or ARNs of two accounts) then never share a call, so
    an answer can never be matched to the wrong one of them.
    """
    name = split(key)[0]
    if name.startswith("arn:"):
        name = name.partition(_ARN_RESOURCE)[2]
    return name.lstrip("/")


def _batch(region: str | None, chunk: Chunk, clients: Clients) -> Batch:
    sources = [source for group in chunk.values() for source in group]
    return guarded(sources, label, lambda: _fetch(region, chunk, clients))


def _fetch(region: str | None, chunk: Chunk, clients: Clients) -> Outcome:
    """One GetParameters call; a rejected batch is asked name by name to isolate the culprit."""
    client = clients.get("ssm", region)
    params = {"Names": list(chunk), "WithDecryption": True}
    try:
        found: dict[str, bytes | InjectorError] = call(
            clients.deadline,
            client.get_parameters,
            params,
            lambda response: answer(list(chunk), response, clients.max_bytes),
        )
    except boto.ClientError as exc:
        if len(chunk) == 1 or not isinstance(translate(exc), ConfigError):
            raise
        outcome: Outcome = {}
        for key, group in chunk.items():
            outcome.update(_batch(region, {key: group}, clients)())
        return outcome
    return {source: found[key] for key, group in chunk.items() for source in group}


def answer(keys: list[str], response: dict[str, Any], cap: int) -> dict[str, bytes | InjectorError]:
    """Map a GetParameters answer to each requested selector; raise BadAnswerError if it lies."""
    parameters = response.get("Parameters")
    invalid = response.get("InvalidParameters", [])
    if not isinstance(parameters, list) or not isinstance(invalid, list):
        raise BadAnswerError("GetParameters answered without its Parameters list")
    if not all(isinstance(p, dict) for p in parameters):
        raise BadAnswerError("GetParameters answered a parameter that is not an object")
    result: dict[str, bytes | InjectorError] = {}
    for key in keys:
        matches = [p for p in parameters if _matches(key, p)]
        if key in invalid and not matches:
            result[key] = SecretNotFoundError(_missing(key))
        elif len(matches) == 1:
            result[key] = _value(matches[0], cap)
        else:
            raise BadAnswerError("GetParameters left out a requested parameter")
    return result


def _matches(key: str, parameter: dict[str, Any]) -> bool:
    name, pin = split(key)
    if name.startswith("arn:"):  # never the caller's own parameter of the same name
        same = name in (parameter.get("ARN"), parameter.get("Name"))
    else:
        same = parameter.get("Name") == name
    if not same or not pin:
        return same
    answered = parameter.get("Selector")
    if answered is not None and answered != f":{pin}":
        return False
    version = parameter.get("Version")
    return not (pin.isdigit() and version is not None and str(version) != pin)


def _value(parameter: dict[str, Any], cap: int) -> bytes | InjectorError:
    data = text(parameter.get("Value"), "a parameter's Value").encode("utf-8")
    return too_large(cap) if len(data) > cap else data


def _missing(key: str) -> str:
    if split(key)[1]:
        return "parameter, version or label not found (InvalidParameters)"
    return "parameter not found (InvalidParameters)"


def store(source: Source, value: str, clients: Clients, kms_key: str | None) -> None:
    """PutParameter *value* as a SecureString (overwriting), under *kms_key* when given."""
    from injector.backends import attributed  # noqa: PLC0415 - write path only

    params: dict[str, Any] = {
        "Name": source.name,
        "Value": value,
        "Type": "SecureString",
        "Overwrite": True,
    }
    if kms_key:
        params["KeyId"] = kms_key
    attributed(
        label(source),
        lambda: call(clients.deadline, clients.get("ssm", source.region).put_parameter, params),
    )
