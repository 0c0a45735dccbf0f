"""Write the modules a start imports, one per line: the PYZ stores these uncompressed.

    python packaging/hot_modules.py OUT

It imports what packaging/regex_cache.py imports (injector's exec path and every backend)
and creates a client of each service injector calls (no request is sent), plus the codec a
request's host name needs, then lists ``sys.modules``. packaging/injector.spec writes those
modules into the PYZ with zlib level 0 and every other one with level 9: inflating what a
start imports cost ~15 ms at every start. Deterministic: the same sources, the same list.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import regex_cache  # noqa: E402 - packaging/ is not a package


def main(argv: list[str]) -> int:
    """Write the sorted module names to argv[0]."""
    out = Path(argv[0])
    import ctypes  # noqa: F401, PLC0415 - PyInstaller's bootstrap imports it at every start

    import injector.execute  # noqa: PLC0415 - the exec path beyond resolve
    import injector.hardening  # noqa: PLC0415
    import injector.run  # noqa: PLC0415
    import injector.split  # noqa: F401, PLC0415 - many secrets: the fork

    regex_cache.harvest()
    "example.com".encode("idna")  # what a request's host name imports
    names = sorted(name for name in sys.modules if name != "__main__")
    out.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    print(f"hot_modules: {len(names)} modules -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
