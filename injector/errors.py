"""Every error injector reports, each with its documented exit code.

Messages name references, variables and causes; they never contain a secret value.
"""

from __future__ import annotations

USAGE = 64
BAD_DATA = 65
NOT_FOUND = 66
SOFTWARE = 70
UNAVAILABLE = 69
OUTPUT = 74
DENIED = 77
CONFIG = 78
NOT_EXECUTABLE = 126
NOT_FOUND_TARGET = 127


class InjectorError(Exception):
    """Base class: a failure that stops injector before it execs anything."""

    exit_code = SOFTWARE
    kind = "internal"

    def __init__(self, message: str, *, reference: str | None = None) -> None:
        """Keep the message and the reference it is about (never a value)."""
        super().__init__(message)
        self.message = message
        self.reference = reference

    def __str__(self) -> str:
        """Render as ``reference: message`` when a reference is known."""
        if self.reference:
            return f"{self.reference}: {self.message}"
        return self.message


class UsageError(InjectorError):
    """The command line is wrong."""

    exit_code = USAGE
    kind = "usage"


class BadDataError(InjectorError):
    """A secret was fetched but its content is unusable."""

    exit_code = BAD_DATA
    kind = "bad_data"


class SecretNotFoundError(InjectorError):
    """The store answered that the secret does not exist."""

    exit_code = NOT_FOUND
    kind = "not_found"


class UnavailableError(InjectorError):
    """The store could not be reached or kept failing, or the deadline passed."""

    exit_code = UNAVAILABLE
    kind = "unavailable"


class OutputError(InjectorError):
    """Stdout could not be written: it is closed, or its reader went away (EPIPE)."""

    exit_code = OUTPUT
    kind = "output"


class AccessDeniedError(InjectorError):
    """The caller has no credentials or is not allowed to read the secret."""

    exit_code = DENIED
    kind = "denied"


class ConfigError(InjectorError):
    """The configuration or a reference is invalid."""

    exit_code = CONFIG
    kind = "config"


class TargetNotExecutableError(InjectorError):
    """The program to exec exists but cannot be executed."""

    exit_code = NOT_EXECUTABLE
    kind = "not_executable"


class TargetNotFoundError(InjectorError):
    """The program to exec does not exist."""

    exit_code = NOT_FOUND_TARGET
    kind = "target_not_found"


EXIT_CODES: dict[type[InjectorError], int] = {
    cls: cls.exit_code
    for cls in (
        UsageError,
        BadDataError,
        SecretNotFoundError,
        UnavailableError,
        OutputError,
        AccessDeniedError,
        ConfigError,
        TargetNotExecutableError,
        TargetNotFoundError,
    )
}
