"""``--config FILE`` (TOML): allowlisted paths, disabled rules, extra rules.

allow_paths = ["/usr/share/doc/*", "/app/tests/fixtures/*"]
disable = ["key-file", "high-entropy-string"]
[[rule]]
id = "acme-token"
regex = 'acme_[a-z0-9]{32}'
keywords = ["acme_"]
severity = "high"          # info, low, medium, high, critical
category = "token"
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field

from injector.errors import ConfigError
from injector.scan import rules
from injector.scan.model import SEVERITIES

MAX_REGEX = 1000


@dataclass(frozen=True)
class Settings:
    """What --config asks for; the default is everything on, nothing allowlisted."""

    allow: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()
    extra: tuple[rules.Pattern, ...] = field(default=())
    source: str = ""

    def allows(self, path: str) -> bool:
        """Tell whether *path* is allowlisted."""
        return any(fnmatch.fnmatchcase(path, glob) for glob in self.allow)

    def digest_input(self) -> str:
        """Return what the cache key must depend on."""
        extra = [(p.rule, p.literals, p.regex.pattern) for p in self.extra]
        return repr((sorted(self.allow), sorted(self.disabled), extra))


def load(path: str | None) -> Settings:
    """Read --config FILE, or return the defaults."""
    if path is None:
        return Settings()
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read --config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path} is not valid TOML: {exc}") from None
    return Settings(
        allow=tuple(_strings(data, "allow_paths", path)),
        disabled=frozenset(_strings(data, "disable", path)),
        extra=tuple(_rule(item, path) for item in _list(data, "rule", path)),
        source=path,
    )


def _list(data: dict[str, object], key: str, path: str) -> list[object]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"--config {path}: {key} must be a list")
    return value


def _strings(data: dict[str, object], key: str, path: str) -> list[str]:
    values = _list(data, key, path)
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"--config {path}: {key} must be a list of strings")
    return [str(v) for v in values]


def _rule(item: object, path: str) -> rules.Pattern:
    if not isinstance(item, dict):
        raise ConfigError(f"--config {path}: each [[rule]] must be a table")
    rule_id, regex = str(item.get("id", "")), str(item.get("regex", ""))
    keywords = item.get("keywords", [])
    severity = str(item.get("severity", "high"))
    if not rule_id or not regex or len(regex) > MAX_REGEX:
        raise ConfigError(f"--config {path}: a [[rule]] needs an id and a regex (<= 1000 chars)")
    if severity not in SEVERITIES or not isinstance(keywords, list) or not keywords:
        raise ConfigError(f"--config {path}: rule {rule_id} needs keywords and a valid severity")
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ConfigError(f"--config {path}: rule {rule_id}: bad regex ({exc})") from None
    rule = rules.Rule(rule_id, str(item.get("category", "custom")), severity, rule_id)
    return rules.Pattern(rule, tuple(str(k) for k in keywords), compiled)
