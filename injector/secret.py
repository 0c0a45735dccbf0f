"""The ``Secret`` type: bytes that refuse to show themselves."""

from __future__ import annotations

from typing import NoReturn


class Secret:
    """A fetched secret value; ``repr`` and ``str`` are always ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        """Wrap *value*."""
        self._value = value

    def reveal(self) -> bytes:
        """Return the bytes; call only where the value is delivered."""
        return self._value

    def __len__(self) -> int:
        """Size in bytes (safe to log)."""
        return len(self._value)

    def __repr__(self) -> str:
        """Never show the value."""
        return "Secret(***)"

    def __str__(self) -> str:
        """Never show the value."""
        return "***"

    def __eq__(self, other: object) -> bool:
        """Compare by value, so tests can check results without revealing."""
        return isinstance(other, Secret) and other.reveal() == self._value

    def __hash__(self) -> int:
        """Hash by value."""
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        """Refuse to be pickled."""
        msg = "Secret values cannot be pickled"
        raise TypeError(msg)
