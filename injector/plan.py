"""Decide what goes where, from the environment and the config alone (no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from injector import inline, references
from injector.errors import ConfigError
from injector.parsers import FALSE_WORDS

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from injector.config import Config
    from injector.expand import EnvFrom
    from injector.inline import Inline
    from injector.references import Reference

CREDENTIALS_PREFIX = "CREDENTIALS_"
CONTROL_PREFIXES = ("INJECTOR_", CREDENTIALS_PREFIX)
CONTROL_NAMES = frozenset({"BUCKETSUFFIX"})
SEED_BUCKET_PREFIX = "my-secrets-bucket-"
FILE_SUFFIX = "_FILE"


class Delivery(NamedTuple):
    """One variable that receives one secret."""

    variable: str
    reference: Reference
    trim: bool = False
    to_file: bool = False


class Plan(NamedTuple):
    """Everything to fetch and where it goes."""

    deliveries: tuple[Delivery, ...]
    env_files: tuple[Reference, ...]
    drop: frozenset[str]
    env_from: tuple[EnvFrom, ...] = ()
    inline: tuple[Inline, ...] = ()

    def references(self) -> list[Reference]:
        """Every reference to resolve, each once, in plan order."""
        seen: dict[Reference, None] = {}
        for delivery in self.deliveries:
            seen.setdefault(delivery.reference)
        for item in self.inline:
            for reference in item.references():
                seen.setdefault(reference)
        for reference in self.env_files:
            seen.setdefault(reference)
        for entry in self.env_from:
            seen.setdefault(entry.reference)
        return list(seen)

    def __bool__(self) -> bool:
        """Tell whether anything at all must be fetched."""
        return bool(self.deliveries or self.env_files or self.env_from or self.inline)


def is_control(name: str) -> bool:
    """Tell whether *name* is one of injector's own control variables."""
    return name.startswith(CONTROL_PREFIXES) or name in CONTROL_NAMES


def build(environ: Mapping[str, str], config: Config) -> Plan:
    """Turn the environment and config into a Plan, or raise ConfigError."""
    explicit = list(_explicit(environ))
    inlines = tuple(_inline(environ))
    deliveries = [*explicit, *_seed(environ, config)]
    env_files = tuple(references.parse(text) for text in config.env_files)
    drop = {d.variable for d in explicit} | {item.variable for item in inlines}
    if not config.keep_control_vars:
        drop |= {name for name in environ if is_control(name)}
    env_from: tuple[EnvFrom, ...] = ()
    if config.env_from:
        from injector import expand  # noqa: PLC0415 - only when INJECTOR_ENV_FROM is set

        env_from = expand.plan(config.env_from)
    return Plan(tuple(deliveries), env_files, frozenset(drop), env_from, inlines)


def _explicit(environ: Mapping[str, str]) -> Iterator[Delivery]:
    for name, value in environ.items():
        text = None if is_control(name) else inline.whole(value)
        if text is None:
            continue
        reference = references.parse(text)
        yield Delivery(name, reference, to_file=name.endswith(FILE_SUFFIX))


def _inline(environ: Mapping[str, str]) -> Iterator[Inline]:
    """Values with ``ref+...+`` expressions inside literal text (vals' inline form)."""
    for name, value in environ.items():
        if is_control(name) or "ref+" not in value or inline.whole(value) is not None:
            continue
        item = inline.parse(name, value, to_file=name.endswith(FILE_SUFFIX))
        if item is not None:
            yield item


def _seed(environ: Mapping[str, str], config: Config) -> Iterator[Delivery]:
    names = [
        name[len(CREDENTIALS_PREFIX) :]
        for name, value in environ.items()
        if name.startswith(CREDENTIALS_PREFIX) and value.strip().lower() not in FALSE_WORDS
    ]
    if not names:
        return
    bucket = _seed_bucket(environ, config)
    for name in names:
        if not name:
            raise ConfigError("CREDENTIALS_ needs a name after the prefix")
        reference = references.s3_object(bucket, name)
        yield Delivery(name, reference, trim=True, to_file=name.endswith(FILE_SUFFIX))


def _seed_bucket(environ: Mapping[str, str], config: Config) -> str:
    if config.bucket:
        return config.bucket
    suffix = environ.get("BUCKETSUFFIX", "").strip()
    if not suffix:
        msg = "CREDENTIALS_* variables need BUCKETSUFFIX (or INJECTOR_BUCKET) to name the bucket"
        raise ConfigError(msg)
    return SEED_BUCKET_PREFIX + suffix
