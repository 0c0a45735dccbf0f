"""Structured logging on stderr, with structlog imported only when a line is emitted.

Every event passes a redaction step that replaces any fetched secret value with ``***`` in
the event's values. Keys, the level, the event name, references and variable names are public
by design (they are in ``docker inspect``) and are never rewritten, so a short secret that is
also a common word cannot break a line's structure or point at itself. Whatever a command
prints on stdout goes through the same redaction: :func:`write_json` scrubs the string values
of a JSON document (never its keys, numbers or literals, so the document stays valid), and
:func:`write_stdout` the text of a table or a line.
"""

from __future__ import annotations

import sys
from typing import Any

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_MIN_REDACT = 4
# Fields that hold public facts by design: never rewritten (their values are not secrets).
PUBLIC_FIELDS = frozenset(
    {"event", "level", "timestamp", "logger", "reference", "references", "variable",
     "variables", "kind", "exit_code", "store", "target", "ms", "pid"}
)  # fmt: skip


class _State:
    level = 20
    fmt = "json"
    logger: Any = None
    secrets: set[str] = set()  # noqa: RUF012 - one process-wide registry


def configure(level: str, fmt: str) -> None:
    """Set the threshold and the output format."""
    _State.level = _LEVELS[level]
    _State.fmt = fmt
    _State.logger = None


def register_secret(value: bytes) -> None:
    """Remember *value* so that the redaction step can scrub it from any event."""
    text = value.decode("utf-8", "replace")
    for part in (text, *text.splitlines()):
        stripped = part.strip()
        if len(stripped) >= _MIN_REDACT:
            _State.secrets.add(stripped)


def redact(text: str) -> str:
    """Replace every registered secret in *text* with ``***``."""
    for secret in sorted(_State.secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def write_json(document: object, *, sort_keys: bool = False) -> None:
    """Print *document* as indented JSON on stdout, its string values redacted."""
    import json  # noqa: PLC0415 - only commands that print JSON pay for it

    clean = _scrub(document) if _State.secrets else document
    sys.stdout.write(json.dumps(clean, indent=2, sort_keys=sort_keys) + "\n")
    sys.stdout.flush()


def write_stdout(text: str) -> None:
    """Print *text* on stdout after the same redaction every log line gets."""
    sys.stdout.write(redact(text) if _State.secrets else text)
    sys.stdout.flush()


def debug(event: str, **fields: object) -> None:
    """Log at debug level."""
    _emit("debug", event, fields)


def info(event: str, **fields: object) -> None:
    """Log at info level."""
    _emit("info", event, fields)


def warning(event: str, **fields: object) -> None:
    """Log at warning level."""
    _emit("warning", event, fields)


def error(event: str, **fields: object) -> None:
    """Log at error level."""
    _emit("error", event, fields)


def _emit(level: str, event: str, fields: dict[str, object]) -> None:
    if _LEVELS[level] < _State.level:
        return
    if _State.logger is None:
        _State.logger = _make_logger()
    getattr(_State.logger, level)(event, **fields)


def _scrub(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    return redact(value if isinstance(value, str) else str(value))


def _redact_fields(_logger: object, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    if not _State.secrets:
        return event
    return {key: value if key in PUBLIC_FIELDS else _scrub(value) for key, value in event.items()}


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of each write (it may be replaced after start)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _make_logger() -> Any:  # noqa: ANN401 - structlog's bound logger is dynamically typed
    import structlog  # noqa: PLC0415 - costs ~80 ms, so only when a line is written

    renderer: Any
    if _State.fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer()
    processors: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_fields,
        renderer,
    ]
    return structlog.wrap_logger(
        structlog.WriteLogger(_Stderr()),  # type: ignore[arg-type]
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_State.level),
        context_class=dict,
        cache_logger_on_first_use=True,
    ).bind(logger="injector")
