"""The agent's policy file (TOML, ``version = 1``): strict, checked whole before use.

Every unknown key is an error naming it (a typo such as ``match.lables`` must never match
every container). A policy needs a non-empty match; references use the exec grammar and are
parsed here, once. No match means denied; two matches mean denied as ambiguous.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from injector import references
from injector.errors import ConfigError

VERSION = 1
SOCKET_DEFAULT = "/run/injector/agent/agent.sock"
ENGINE_DEFAULT = "unix:///var/run/docker.sock"
SUN_PATH_MAX = 107  # 108 bytes of sun_path, one for the NUL
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_RESERVED_PREFIXES = ("INJECTOR_", "CREDENTIALS_", "AWS_")
_RESERVED_NAMES = frozenset({"BUCKETSUFFIX", "PATH", "LD_PRELOAD", "LD_LIBRARY_PATH"})
FILE_SUFFIX = "_FILE"


class Settings(NamedTuple):
    """The ``[agent]`` table."""

    socket: str = SOCKET_DEFAULT
    engine: str = ENGINE_DEFAULT
    once_per_start: bool = True
    max_start_age: float = 60.0
    max_caller_depth: int = 2
    trust_image_labels: bool = False
    allow_privileged: bool = False
    allow_host_pid: bool = False
    request_timeout: float = 5.0


class Rule(NamedTuple):
    """One ``[[policy]]``: which containers, and what they get."""

    name: str
    labels: dict[str, str]
    image_ids: frozenset[str]
    env: dict[str, str]  # variable -> reference text
    files: dict[str, str]  # NAME (delivered as NAME_FILE) -> reference text

    def matches(self, labels: dict[str, str], image_id: str) -> bool:
        """Tell whether a container with these run-time labels and image matches."""
        if any(labels.get(k) != v for k, v in self.labels.items()):
            return False
        return not self.image_ids or image_id in self.image_ids

    def deliveries(self) -> dict[str, str]:
        """Return ``{VAR: ref, NAME_FILE: ref}``: the synthetic environment to plan from."""
        wanted = dict(self.env)
        wanted.update({name + FILE_SUFFIX: ref for name, ref in self.files.items()})
        return wanted


class Policy(NamedTuple):
    """A whole, validated policy file."""

    settings: Settings
    rules: tuple[Rule, ...]
    origin: str

    def match(self, labels: dict[str, str], image_id: str) -> list[Rule]:
        """Every rule the container matches (the caller denies zero or several)."""
        return [rule for rule in self.rules if rule.matches(labels, image_id)]

    def ambiguities(self) -> list[tuple[str, str]]:
        """Pairs of rules some container could match both of (told statically)."""
        pairs: list[tuple[str, str]] = []
        for i, one in enumerate(self.rules):
            pairs.extend(
                (one.name, other.name) for other in self.rules[i + 1 :] if _overlap(one, other)
            )
        return pairs


def _overlap(one: Rule, other: Rule) -> bool:
    if any(other.labels.get(k, v) != v for k, v in one.labels.items()):
        return False
    return not (one.image_ids and other.image_ids and not one.image_ids & other.image_ids)


def parse(data: bytes, origin: str) -> Policy:
    """Parse and validate a policy file; ConfigError names the key and the origin."""
    import tomllib  # noqa: PLC0415 - only the agent reads TOML

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
    try:
        return _policy(doc, origin)
    except _KeyError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


class _KeyError(Exception):
    """A problem at one key (the message starts with the key's dotted name)."""


def _policy(doc: dict[str, Any], origin: str) -> Policy:
    _only(doc, "", {"version", "agent", "policy"})
    if doc.get("version") != VERSION:
        raise _KeyError(f"version: must be {VERSION}")
    settings = _settings(_table(doc.get("agent", {}), "agent"))
    raw_rules = doc.get("policy", [])
    if not isinstance(raw_rules, list):
        raise _KeyError("policy: must be an array of tables ([[policy]])")
    rules = tuple(_rule(_table(raw, f"policy[{i}]"), i) for i, raw in enumerate(raw_rules))
    names = [rule.name for rule in rules]
    for name in names:
        if names.count(name) > 1:
            raise _KeyError(f"policy: the name {name!r} is used twice")
    return Policy(settings, rules, origin)


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            dotted = f"{where}.{key}" if where else key
            raise _KeyError(f"{dotted}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _KeyError(f"{where}: must be a table")
    return value


def _settings(table: dict[str, Any]) -> Settings:
    _only(table, "agent", set(Settings._fields))
    values: dict[str, Any] = {}
    for key, raw in table.items():
        where = f"agent.{key}"
        default = getattr(Settings(), key)
        if key in {"max_start_age", "request_timeout"}:
            values[key] = duration(raw, where)
        elif isinstance(default, bool):
            values[key] = _bool(raw, where)
        elif key == "max_caller_depth":
            values[key] = _depth(raw, where)
        else:
            values[key] = _text(raw, where)
    settings = Settings(**values)
    _check_socket(settings.socket)
    if not settings.engine.startswith("unix:///"):
        raise _KeyError("agent.engine: must be unix:///PATH (a local engine socket)")
    return settings


def _check_socket(path: str) -> None:
    if not path.startswith("/"):
        raise _KeyError("agent.socket: must be an absolute path")
    if len(path.encode()) > SUN_PATH_MAX:
        raise _KeyError(f"agent.socket: longer than {SUN_PATH_MAX} bytes (sun_path)")


def _bool(raw: object, where: str) -> bool:
    if not isinstance(raw, bool):
        raise _KeyError(f"{where}: must be true or false")
    return raw


def _depth(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 16:  # noqa: PLR2004
        raise _KeyError(f"{where}: must be a whole number from 0 to 16")
    return raw


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise _KeyError(f"{where}: must be a non-empty string")
    return raw


def duration(raw: object, where: str) -> float:
    """Parse ``"60s"``, ``"2m"``, ``"500ms"``, ``"1h"`` or a number of seconds."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw)
    elif isinstance(raw, str) and (found := _DURATION.fullmatch(raw.strip())):
        seconds = float(found.group(1)) * _UNITS[found.group(2)]
    else:
        raise _KeyError(f'{where}: expected a duration such as "60s" or "2m"')
    if not 0 < seconds <= 86400:  # noqa: PLR2004 - one day
        raise _KeyError(f"{where}: must be more than 0 and at most one day")
    return seconds


def _rule(table: dict[str, Any], index: int) -> Rule:
    where = f"policy[{index}]"
    _only(table, where, {"name", "match", "env", "files"})
    name = table.get("name")
    if not isinstance(name, str) or not _POLICY_NAME.fullmatch(name):
        raise _KeyError(f"{where}.name: required, letters, digits, '_', '.', '-'")
    where = f"policy.{name}"
    match = _table(table.get("match", {}), f"{where}.match")
    _only(match, f"{where}.match", {"labels", "image_ids"})
    labels = _strings(match.get("labels", {}), f"{where}.match.labels")
    image_ids = _image_ids(match.get("image_ids", []), f"{where}.match.image_ids")
    if not labels and not image_ids:
        raise _KeyError(f"{where}.match: needs labels or image_ids (an empty match is refused)")
    env = _refs(table.get("env", {}), f"{where}.env", suffix="")
    files = _refs(table.get("files", {}), f"{where}.files", suffix=FILE_SUFFIX)
    clash = set(env) & {n + FILE_SUFFIX for n in files}
    # Defence in depth only: _refs already refuses env names ending in _FILE, so no clash.
    if clash:  # pragma: no cover - unreachable through parse (see the line above)
        raise _KeyError(f"{where}: {min(clash)} is both an env and a file delivery")
    if not env and not files:
        raise _KeyError(f"{where}: delivers nothing (no env or files)")
    return Rule(name, labels, image_ids, env, files)


def _strings(value: object, where: str) -> dict[str, str]:
    table = _table(value, where)
    for key, item in table.items():
        if not isinstance(item, str):
            raise _KeyError(f"{where}.{key}: must be a string")
    return dict(table)


def _image_ids(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _KeyError(f"{where}: must be a list of strings")
    for item in value:
        if not _IMAGE_ID.fullmatch(item):
            raise _KeyError(f"{where}: {item!r} is not sha256:<64 hex>")
    return frozenset(value)


def _refs(value: object, where: str, *, suffix: str) -> dict[str, str]:
    table = _strings(value, where)
    for name, text in table.items():
        variable = name + suffix
        if not _NAME.fullmatch(name) or _reserved(variable):
            raise _KeyError(f"{where}.{name}: not a variable name a policy may set")
        if suffix == "" and name.endswith(FILE_SUFFIX):
            raise _KeyError(f"{where}.{name}: *_FILE deliveries go in files (without _FILE)")
        try:
            references.parse(text)
        except ConfigError as exc:
            raise _KeyError(f"{where}.{name}: {exc.message}") from None
    return table


def _reserved(name: str) -> bool:
    return name.startswith(_RESERVED_PREFIXES) or name in _RESERVED_NAMES
