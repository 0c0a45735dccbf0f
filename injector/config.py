"""Injector's settings: one table of options, each with its ``INJECTOR_*`` variable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from injector.errors import ConfigError, InjectorError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping


class Option(NamedTuple):
    """One option: its long flag, its variable, and whether it takes a value."""

    flag: str
    variable: str
    field: str
    takes_value: bool
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("--timeout", "INJECTOR_TIMEOUT", "timeout", True, "overall deadline in seconds (30)"),
    Option(
        "--log-level", "INJECTOR_LOG_LEVEL", "log_level", True, "debug, info, warning, error (info)"
    ),
    Option("--log-format", "INJECTOR_LOG_FORMAT", "log_format", True, "json or console (json)"),
    Option(
        "--env-files",
        "INJECTOR_ENV_FILES",
        "env_files",
        True,
        "references to dotenv files, whitespace separated",
    ),
    Option(
        "--bucket",
        "INJECTOR_BUCKET",
        "bucket",
        True,
        "bucket for CREDENTIALS_* (default my-secrets-bucket-$BUCKETSUFFIX)",
    ),
    Option(
        "--max-concurrency",
        "INJECTOR_MAX_CONCURRENCY",
        "max_concurrency",
        True,
        "parallel fetches (16)",
    ),
    Option(
        "--pristine",
        "INJECTOR_PRISTINE",
        "pristine",
        False,
        "start the child from an empty environment plus the secrets",
    ),
    Option(
        "--keep-control-vars",
        "INJECTOR_KEEP_CONTROL_VARS",
        "keep_control_vars",
        False,
        "keep INJECTOR_*, CREDENTIALS_* and BUCKETSUFFIX in the child",
    ),
    Option(
        "--secrets-dir",
        "INJECTOR_SECRETS_DIR",
        "secrets_dir",
        True,
        "tmpfs directory for *_FILE secrets",
    ),
    Option(
        "--allow-disk",
        "INJECTOR_ALLOW_DISK",
        "allow_disk",
        False,
        "allow a disk-backed secrets directory",
    ),
    Option(
        "--max-secret-bytes",
        "INJECTOR_MAX_SECRET_BYTES",
        "max_secret_bytes",
        True,
        "largest secret or env-file accepted, in bytes (16777216)",
    ),
    Option(
        "--agent",
        "INJECTOR_AGENT",
        "agent",
        True,
        "get the secrets from the host agent at unix:///PATH (no AWS in the container)",
    ),
    Option("--file-mode", "INJECTOR_FILE_MODE", "file_mode", True, "mode of secret files (0400)"),
    Option(
        "--file-owner", "INJECTOR_FILE_OWNER", "file_owner", True, "uid:gid owning secret files"
    ),
)
BY_FLAG = {o.flag: o for o in OPTIONS}
LEVELS = ("debug", "info", "warning", "error")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class Config(NamedTuple):
    """Validated settings for one run (a NamedTuple: dataclasses cost ~15 ms per start)."""

    timeout: float = 30.0
    log_level: str = "info"
    log_format: str = "json"
    env_files: tuple[str, ...] = ()
    bucket: str | None = None
    max_concurrency: int = 16
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
    value = _convert(option, "true" if raw is None else raw, origin)
    changes: dict[str, Any] = {option.field: value}
    return config._replace(**changes)


def _convert(option: Option, raw: str, origin: str) -> object:
    converters = {
        "timeout": _positive_float,
        "log_level": _level,
        "log_format": _format,
        "env_files": lambda s, _o: tuple(s.split()),
        "bucket": lambda s, _o: s.strip() or None,
        "max_concurrency": _positive_int,
        "max_secret_bytes": _byte_count,
        "secrets_dir": lambda s, _o: s or None,
        "file_mode": _mode,
        "file_owner": _owner,
        "agent": _agent,
    }
    converter = converters.get(option.field, _bool)
    return converter(raw, origin)


def _fail(origin: str, message: str) -> InjectorError:
    if origin.startswith("--"):
        return UsageError(f"{origin}: {message}")
    return ConfigError(f"{origin}: {message}")


def _bool(raw: str, origin: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _fail(origin, f"expected true or false, not {raw!r}")


def _positive_float(raw: str, origin: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _fail(origin, f"expected a number of seconds, not {raw!r}") from None
    if not 0 < value < 86400:  # noqa: PLR2004 - one day is the sane maximum
        raise _fail(origin, "must be between 0 and 86400 seconds")
    return value


def _positive_int(raw: str, origin: str) -> int:
    if not raw.strip().isdigit() or not 0 < int(raw) <= 256:  # noqa: PLR2004 - pool bound
        raise _fail(origin, f"expected a whole number from 1 to 256, not {raw!r}")
    return int(raw)


def _byte_count(raw: str, origin: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 1 << 30:
        raise _fail(origin, f"expected a number of bytes from 1 to 1073741824, not {raw!r}")
    return int(text)


def _level(raw: str, origin: str) -> str:
    lowered = raw.strip().lower()
    if lowered == "warn":
        lowered = "warning"
    if lowered not in LEVELS:
        raise _fail(origin, f"expected one of {', '.join(LEVELS)}, not {raw!r}")
    return lowered


def _format(raw: str, origin: str) -> str:
    lowered = raw.strip().lower()
    if lowered not in {"json", "console"}:
        raise _fail(origin, f"expected json or console, not {raw!r}")
    return lowered


def _mode(raw: str, origin: str) -> int:
    try:
        mode = int(raw, 8)
    except ValueError:
        raise _fail(origin, f"expected an octal mode such as 0400, not {raw!r}") from None
    if not 0 <= mode <= 0o777:  # noqa: PLR2004 - permission bits only
        raise _fail(origin, "mode must be between 0000 and 0777")
    return mode


def _owner(raw: str, origin: str) -> tuple[int, int]:
    uid, colon, gid = raw.partition(":")
    if not (uid.isdigit() and colon and gid.isdigit()):
        raise _fail(origin, f"expected numeric uid:gid, not {raw!r}")
    return int(uid), int(gid)


def _agent(raw: str, origin: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    if not text.startswith("unix:///") or "\x00" in text:
        raise _fail(origin, f"expected unix:///PATH, not {raw[:64]!r}")
    return text
