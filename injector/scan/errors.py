"""The scan's failures, each mapped to its documented exit code (64/65/66/69)."""

from __future__ import annotations

from injector.errors import BadDataError, InjectorError, UnavailableError, UsageError

FINDINGS = 1


class CorruptArchiveError(BadDataError):
    """The archive, a member of it, or a document in it is corrupt or unsupported (65)."""

    kind = "corrupt"


class TargetMissingError(InjectorError):
    """The image, file or directory to scan does not exist (66)."""

    exit_code = 66
    kind = "not_found"


class EngineUnavailableError(UnavailableError):
    """The Docker engine's socket cannot be reached or answered with an error (69)."""

    kind = "engine_unavailable"


__all__ = [
    "FINDINGS",
    "CorruptArchiveError",
    "EngineUnavailableError",
    "TargetMissingError",
    "UsageError",
]
