"""``injector scan TARGET [options]``: the thin entry; everything lives in injector.scan.

Nothing of injector.scan is imported until this command runs (never on the exec path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

FLAGS: dict[str, bool] = {
    "--format": True,
    "--output": True,
    "--fail-on": True,
    "--policy": True,
    "--baseline": True,
    "--write-baseline": True,
    "--config": True,
    "--known-from": True,
    "--max-file-size": True,
    "--jobs": True,
    "--no-cache": False,
    "--skip-layers-of": True,
}


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Run the scan (imported here, lazily)."""
    from injector.scan.main import main as scan_main  # noqa: PLC0415 - scan only

    return scan_main(config, flags, args)
