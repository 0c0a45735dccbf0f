"""Injector's settings: one table of options, each with its ``INJECTOR_*`` variable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from injector import parsers
from injector.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class Option(NamedTuple):
    """One option: its long flag, its variable, whether it takes a value, and its converter.

    The converter turns the raw text into the field's value or raises
    :class:`injector.parsers.BadValueError`; a bare flag (``takes_value`` False) is parsed as
    ``true`` by the boolean parser, which is also the one its variable goes through.
    """

    flag: str
    variable: str
    field: str
    takes_value: bool
    help: str
    converter: Callable[[str], object]


def _words(raw: str) -> tuple[str, ...]:
    return tuple(raw.split())


def _text_or_none(raw: str) -> str | None:
    return raw.strip() or None


def _path_or_none(raw: str) -> str | None:
    return raw or None


def _timeout(raw: str) -> float:
    return parsers.seconds(raw, 86400)  # one day is the sane maximum


def _concurrency(raw: str) -> int:
    return parsers.integer(raw, 1, 256)  # the connection pool's bound


def _byte_count(raw: str) -> int:
    return parsers.integer(raw, 1, 1 << 30, "a number of bytes")


def _level(raw: str) -> str:
    return parsers.choice(raw, LEVELS, {"warn": "warning"})


def _format(raw: str) -> str:
    return parsers.choice(raw, ("json", "console"))


def _agent_url(raw: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    if not text.startswith("unix:///") or "\x00" in text:
        raise parsers.BadValueError(f"expected unix:///PATH, not {raw[:64]!r}")
    return text


LEVELS = ("debug", "info", "warning", "error")
_BOOL = parsers.boolean
OPTIONS: tuple[Option, ...] = (
    Option(
        "--timeout",
        "INJECTOR_TIMEOUT",
        "timeout",
        True,
        "overall deadline in seconds (30)",
        _timeout,
    ),
    Option(
        "--log-level",
        "INJECTOR_LOG_LEVEL",
        "log_level",
        True,
        "debug, info, warning, error (info)",
        _level,
    ),
    Option(
        "--log-format",
        "INJECTOR_LOG_FORMAT",
        "log_format",
        True,
        "json or console (json)",
        _format,
    ),
    Option(
        "--env-files",
        "INJECTOR_ENV_FILES",
        "env_files",
        True,
        "references to dotenv files, whitespace separated",
        _words,
    ),
    Option(
        "--env-from",
        "INJECTOR_ENV_FROM",
        "env_from",
        True,
        "references that yield many variables (SSM paths, JSON objects, dotenv)",
        _words,
    ),
    Option(
        "--bucket",
        "INJECTOR_BUCKET",
        "bucket",
        True,
        "bucket for CREDENTIALS_* (default my-secrets-bucket-$BUCKETSUFFIX)",
        _text_or_none,
    ),
    Option(
        "--max-concurrency",
        "INJECTOR_MAX_CONCURRENCY",
        "max_concurrency",
        True,
        "parallel fetches (64)",
        _concurrency,
    ),
    Option(
        "--single-process",
        "INJECTOR_SINGLE_PROCESS",
        "single_process",
        False,
        "fetch in this process only (else 24+ calls are shared with one forked child)",
        _BOOL,
    ),
    Option(
        "--stock-http",
        "INJECTOR_STOCK_HTTP",
        "stock_http",
        False,
        "send AWS calls through botocore's urllib3 session (else http.client, one CA load)",
        _BOOL,
    ),
    Option(
        "--pristine",
        "INJECTOR_PRISTINE",
        "pristine",
        False,
        "start the child from an empty environment plus the secrets",
        _BOOL,
    ),
    Option(
        "--keep-control-vars",
        "INJECTOR_KEEP_CONTROL_VARS",
        "keep_control_vars",
        False,
        "keep INJECTOR_*, CREDENTIALS_* and BUCKETSUFFIX in the child",
        _BOOL,
    ),
    Option(
        "--secrets-dir",
        "INJECTOR_SECRETS_DIR",
        "secrets_dir",
        True,
        "tmpfs directory for *_FILE secrets",
        _path_or_none,
    ),
    Option(
        "--allow-disk",
        "INJECTOR_ALLOW_DISK",
        "allow_disk",
        False,
        "allow a disk-backed secrets directory",
        _BOOL,
    ),
    Option(
        "--max-secret-bytes",
        "INJECTOR_MAX_SECRET_BYTES",
        "max_secret_bytes",
        True,
        "largest secret or env-file accepted, in bytes (16777216)",
        _byte_count,
    ),
    Option(
        "--agent",
        "INJECTOR_AGENT",
        "agent",
        True,
        "get the secrets from the host agent at unix:///PATH (no AWS in the container)",
        _agent_url,
    ),
    Option(
        "--file-mode",
        "INJECTOR_FILE_MODE",
        "file_mode",
        True,
        "mode of secret files (0400)",
        parsers.mode,
    ),
    Option(
        "--file-owner",
        "INJECTOR_FILE_OWNER",
        "file_owner",
        True,
        "uid:gid owning secret files",
        parsers.owner,
    ),
)
BY_FLAG = {o.flag: o for o in OPTIONS}


class Config(NamedTuple):
    """Validated settings for one run (a NamedTuple: dataclasses cost ~15 ms per start)."""

    timeout: float = 30.0
    log_level: str = "info"
    log_format: str = "json"
    env_files: tuple[str, ...] = ()
    env_from: tuple[str, ...] = ()
    bucket: str | None = None
    max_concurrency: int = 64
    single_process: bool = False
    stock_http: bool = False
    pristine: bool = False
    keep_control_vars: bool = False
    secrets_dir: str | None = None
    allow_disk: bool = False
    max_secret_bytes: int = 16 * 1024 * 1024
    file_mode: int = 0o400
    file_owner: tuple[int, int] | None = None
    agent: str | None = None


def from_environment(environ: Mapping[str, str]) -> Config:
    """Read every ``INJECTOR_*`` variable that is set."""
    config = Config()
    for option in OPTIONS:
        raw = environ.get(option.variable)
        if raw is not None:
            config = apply(config, option, raw, option.variable)
    return config


def apply(config: Config, option: Option, raw: str | None, origin: str) -> Config:
    """Return *config* with *option* set from *raw* (None for a bare flag)."""
    try:
        value = option.converter("true" if raw is None else raw)
    except parsers.BadValueError as exc:
        error = UsageError if origin.startswith("--") else ConfigError
        raise error(f"{origin}: {exc}") from None
    changes: dict[str, Any] = {option.field: value}
    return config._replace(**changes)
