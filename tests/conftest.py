"""Shared test settings: every test directory is a tier with its own marker."""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = {"unit": "unit", "integration": "integration"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests under tests/unit as unit tests (other tiers mark themselves)."""
    for item in items:
        tier = Path(str(item.path)).parent.name
        if tier == "unit":
            item.add_marker(pytest.mark.unit)
