"""Parse secret references once into frozen values.

Grammar (vals-compatible, see README "References"):

- ``ref+s3://BUCKET/KEY[?region=R&version_id=V]``
- ``ref+awsssm://PATH[?region=R&version=N]`` (parameter ``/PATH``)
- ``ref+awssecrets://NAME_OR_ARN[?version_stage=S&version_id=V]``
- ``ref+awskms://BASE64[?context=URL_ENCODED_JSON&key=K&alg=A]``
- ``arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME``
- ``arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key:version-stage:version-id]``

Any of them may end in ``#/json/pointer``; ``optional=true``, ``role_arn=ARN`` and
``profile=NAME`` are accepted by all. ``secretref+`` means the same as ``ref+`` (vals). An SSM
reference ending in ``/`` names a path (many parameters): only ``INJECTOR_ENV_FROM`` takes it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from injector.errors import ConfigError

SCHEMES = {"s3": "s3", "awsssm": "ssm", "awssecrets": "secretsmanager", "awskms": "kms"}
_COMMON = frozenset({"region", "optional", "role_arn", "profile"})
AUTH_PARAMS = ("profile", "role_arn")
SECRET_PREFIX = "secret"  # noqa: S105 - vals' secretref+, not a password
PATH_SERVICE = "ssmpath"  # an SSM path: every parameter below it (GetParametersByPath)
ALLOWED_PARAMS = {
    "s3": _COMMON | {"version_id", "version"},
    "ssm": _COMMON | {"version", "label", "recursive", "mode"},
    "secretsmanager": _COMMON | {"version_stage", "version_id"},
    "kms": _COMMON | {"context", "key", "alg"},
}
_ARN = re.compile(r"^arn:aws[a-z-]*:(ssm|secretsmanager):[a-z0-9-]*:\d*:(parameter/|secret:)")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
KMS_ALGORITHMS = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")  # vals' three
_PROFILE = re.compile(r"^[\w+=,.@:/-]{1,128}$")
_DISPLAY_MAX = 96


class Source(NamedTuple):
    """What one backend call fetches: a reference without pointer or ``optional``."""

    service: str
    name: str
    region: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    auth: tuple[tuple[str, str], ...] = ()  # ("profile", NAME) and/or ("role_arn", ARN)

    def option(self, key: str) -> str | None:
        """Return the value of option *key*, or None."""
        return dict(self.options).get(key)


class Reference(NamedTuple):
    """A parsed reference: where the secret lives and which part of it is wanted."""

    text: str
    source: Source
    pointer: str | None = None
    optional: bool = False

    def __str__(self) -> str:
        """Render shortly and value-free, for messages and logs."""
        return display(self.text)


def display(text: str) -> str:
    """Shorten long reference texts (KMS ciphertexts) for messages."""
    if len(text) <= _DISPLAY_MAX:
        return text
    return f"{text[: _DISPLAY_MAX - 24]}...({len(text)} chars)"


def is_reference(value: str) -> bool:
    """Tell whether an environment value asks for a secret."""
    return value.startswith(("ref+", "secretref+")) or _ARN.match(value) is not None


def parse(text: str, *, many: bool = False) -> Reference:
    """Parse *text* into a Reference or raise ConfigError naming it.

    An SSM path (``ref+awsssm://PATH/``) yields many variables: only with *many*.
    """
    reference = _parse(text)
    if reference.source.service == PATH_SERVICE and reference.pointer is None and not many:
        msg = "an SSM path (ending in '/') yields many variables: give it in INJECTOR_ENV_FROM"
        raise ConfigError(msg, reference=display(text))
    return reference


def _parse(text: str) -> Reference:
    body, pointer = _split_fragment(text.removeprefix(SECRET_PREFIX))
    if body.startswith("arn:"):
        return _parse_arn(text, body, pointer)
    if not body.startswith("ref+") or "://" not in body:
        raise ConfigError("not a reference (expected ref+SCHEME://...)", reference=display(text))
    scheme, _, rest = body[4:].partition("://")
    service = SCHEMES.get(scheme)
    if service is None:
        known = ", ".join(f"ref+{s}" for s in SCHEMES)
        raise ConfigError(f"unknown scheme {scheme!r} (known: {known})", reference=display(text))
    location, _, query = rest.partition("?")
    params = _params(text, service, query)
    name = _name(text, service, location)
    return _build(text, service, name, params, pointer)


def s3_object(bucket: str, key: str) -> Reference:
    """Return the reference to exactly object *key* of *bucket*: no pointer, no decoding.

    The seed convention (``CREDENTIALS_<NAME>=true``) names an object key and nothing else;
    the text is the equivalent reference with the key percent-encoded.
    """
    from urllib.parse import quote  # noqa: PLC0415 - kept off the no-reference start

    text = f"ref+s3://{bucket}/{quote(key, safe='/')}"
    return Reference(text, Source("s3", f"{bucket}/{key}"))


def _build(
    text: str, service: str, name: str, params: dict[str, str], pointer: str | None
) -> Reference:
    optional = _flag(text, params.pop("optional", "false"))
    region = params.pop("region", None) or None
    auth = _auth(text, params)
    if service == "s3" and "version" in params:  # vals spells version_id both ways
        if "version_id" in params:
            raise ConfigError("give version or version_id, not both", reference=display(text))
        params["version_id"] = params.pop("version")
    if service == "ssm":
        service, name = _ssm_kind(text, name, params, pointer)
    if service == "kms" and params.get("alg", KMS_ALGORITHMS[0]) not in KMS_ALGORITHMS:
        msg = f"alg must be one of {', '.join(KMS_ALGORITHMS)} (vals would use SYMMETRIC_DEFAULT)"
        raise ConfigError(msg, reference=display(text))
    source = Source(service, name, region, tuple(sorted(params.items())), auth)
    return Reference(text, source, pointer, optional)


def _auth(text: str, params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Take ``profile`` and ``role_arn`` out of *params*, checked."""
    found = tuple((key, params.pop(key)) for key in AUTH_PARAMS if key in params)
    for key, value in found:
        pattern = _ROLE_ARN if key == "role_arn" else _PROFILE
        if not pattern.match(value):
            expected = "arn:aws:iam::ACCOUNT:role/NAME" if key == "role_arn" else "a profile name"
            msg = f"{key} must be {expected} (write a '+' as %2B)"
            raise ConfigError(msg, reference=display(text))
    return found


def _ssm_kind(text: str, name: str, params: dict[str, str], pointer: str | None) -> tuple[str, str]:
    """Tell a parameter from a path, as vals does.

    ``PATH/`` (trailing slash, no pointer) is a path for INJECTOR_ENV_FROM; ``PREFIX#/A/B``
    (no ``mode``) is parameter ``PREFIX/A/B`` read with GetParametersByPath below PREFIX (the
    parameters as a tree, ``recursive=true`` for the whole subtree); ``mode=singleparam``
    reads one parameter and the pointer selects inside its value.
    """
    mode = params.pop("mode", None)
    if mode not in {None, "singleparam"}:
        msg = f"mode={mode!r} is not supported (the only mode is singleparam)"
        raise ConfigError(msg, reference=display(text))
    tree = pointer is not None and mode is None
    is_path = tree or (name.endswith("/") and mode is None)
    if "recursive" in params:
        if not is_path:
            msg = "recursive= applies to a path: ref+awsssm://PATH/?recursive=true"
            raise ConfigError(msg, reference=display(text))
        params["recursive"] = str(_flag(text, params["recursive"], "recursive")).lower()
    if not is_path:
        return "ssm", name
    if params.keys() - {"recursive"}:
        msg = "a path takes only region, recursive, optional, role_arn and profile"
        if tree:
            msg += " (add mode=singleparam to select inside one parameter's value)"
        raise ConfigError(msg, reference=display(text))
    if tree:
        params["tree"] = "true"
    return PATH_SERVICE, name.rstrip("/") or "/"


def _split_fragment(text: str) -> tuple[str, str | None]:
    body, hash_sign, fragment = text.partition("#")
    if not hash_sign:
        return text, None
    if fragment and not fragment.startswith("/"):
        msg = "a JSON pointer after '#' must start with '/'"
        raise ConfigError(msg, reference=display(text))
    return body, fragment


def _params(text: str, service: str, query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl  # noqa: PLC0415 - only when a reference has a query

    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError("malformed query string", reference=display(text)) from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key not in ALLOWED_PARAMS[service]:
            allowed = ", ".join(sorted(ALLOWED_PARAMS[service]))
            msg = f"unsupported parameter {key!r} (allowed: {allowed})"
            raise ConfigError(msg, reference=display(text))
        if key in params:
            raise ConfigError(f"parameter {key!r} given twice", reference=display(text))
        params[key] = value
    return params


def _flag(text: str, value: str, key: str = "optional") -> bool:
    from injector import parsers  # noqa: PLC0415 - only when a reference has a query

    try:
        return parsers.boolean(value)
    except parsers.BadValueError as exc:
        raise ConfigError(f"{key} must be true or false: {exc}", reference=display(text)) from None


def _name(text: str, service: str, location: str) -> str:
    from urllib.parse import unquote  # noqa: PLC0415 - kept off the no-reference start

    if not location:
        raise ConfigError("the reference names nothing", reference=display(text))
    if service == "s3":
        bucket, slash, key = location.partition("/")
        if not bucket or not slash or not key:
            raise ConfigError("expected ref+s3://BUCKET/KEY", reference=display(text))
        return f"{bucket}/{unquote(key)}"
    if service == "ssm":
        return "/" + unquote(location).lstrip("/")
    if service == "secretsmanager":
        return unquote(location)
    return location


def _parse_arn(text: str, arn: str, pointer: str | None) -> Reference:
    match = _ARN.match(arn)
    if match is None:
        raise ConfigError("unsupported ARN (expected an SSM parameter or a secret)", reference=text)
    parts = arn.split(":")
    region = parts[3] or None
    if match.group(1) == "ssm":
        return _ssm_arn(text, parts, region, pointer)
    return _secret_arn(text, parts, region, pointer)


def _ssm_arn(text: str, parts: list[str], region: str | None, pointer: str | None) -> Reference:
    rest = ":".join(parts[5:]).removeprefix("parameter/")
    if not rest:
        raise ConfigError("the ARN names no parameter", reference=text)
    name = "/" + rest if "/" in rest else rest
    return Reference(text, Source("ssm", name, region), pointer)


def _secret_arn(text: str, parts: list[str], region: str | None, pointer: str | None) -> Reference:
    if len(parts) < 7 or not parts[6] or len(parts) > 10:  # noqa: PLR2004 - ARN field positions
        msg = "expected arn:...:secret:NAME[:json-key:version-stage:version-id]"
        raise ConfigError(msg, reference=text)
    extra = [*parts[7:], "", "", ""][:3]
    json_key, stage, version_id = extra
    if json_key and pointer:
        raise ConfigError("give either a json-key field or a '#' pointer, not both", reference=text)
    if json_key:
        pointer = "/" + json_key.replace("~", "~0").replace("/", "~1")
    options = tuple((k, v) for k, v in (("version_id", version_id), ("version_stage", stage)) if v)
    source = Source("secretsmanager", ":".join(parts[:7]), region, options)
    return Reference(text, source, pointer)
