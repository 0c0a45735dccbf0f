"""``injector check [--json] [--env-file PATH]``: is every reference reachable? Never a value.

The plan comes from the environment, or from a dotenv file of ``NAME=reference`` lines. It
goes through the same preparation step exec uses (same fetches, same deadline, same checks
of every delivery); the report shows each variable, its store, reference, size and status on
stdout, and the exit code is the one exec would have had. Everything printed is redacted.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from injector import envfile, inputs, log, plan
from injector.deadline import Deadline
from injector.errors import InjectorError, UsageError
from injector.prepare import Row, prepare

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

FLAGS: dict[str, bool] = {"--json": False, "--env-file": True}
DIRECTORY_ROW = "(secrets dir)"
HEADER = ("VARIABLE", "STORE", "REFERENCE", "SIZE", "STATUS")


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Prepare the plan, print the report, and exit as exec would."""
    if args:
        raise UsageError(f"check takes no arguments, not {args[0]!r}")
    deadline = Deadline(config.timeout)
    environ = _environment(flags.get("--env-file"), config, deadline)
    the_plan = plan.build(environ, config)
    rows = _directory_row(the_plan, config) + list(
        prepare(the_plan, config, deadline, collect=True).rows
    )
    code = next((row.exit_code for row in rows if row.exit_code), 0)
    from injector import compat  # noqa: PLC0415 - check only

    differ = compat.warnings(the_plan)
    if "--json" in flags:
        report = {"ok": code == 0, "exit_code": code, "references": [r._asdict() for r in rows]}
        report["warnings"] = [w._asdict() for w in differ]
        log.write_json(report)
    else:
        notes = "".join(f"warning: {w.reference}: {w.message}\n" for w in differ)
        log.write_stdout(table(rows) + notes)
    return code


def _environment(path: str | None, config: Config, deadline: Deadline) -> Mapping[str, str]:
    if path is None:
        return os.environ
    data = inputs.read(path, limit=config.max_secret_bytes, deadline=deadline, label="--env-file")
    pairs = envfile.parse(data, reference=path, deadline=deadline)
    return {name: value.decode("utf-8", "replace") for name, value in pairs}


def _directory_row(the_plan: plan.Plan, config: Config) -> list[Row]:
    """Report whether exec would accept the secrets directory for ``*_FILE`` variables."""
    wanted = [d.to_file for d in the_plan.deliveries] + [i.to_file for i in the_plan.inline]
    if not any(wanted):
        return []
    from injector import files  # noqa: PLC0415 - only when files are delivered

    try:
        files.preflight(config)
    except InjectorError as exc:
        return [Row(DIRECTORY_ROW, "files", "-", None, exc.kind, exc.exit_code, exc.message)]
    return [Row(DIRECTORY_ROW, "files", "-", None, "ok")]


def table(rows: list[Row]) -> str:
    """Render *rows* as an aligned text table."""
    lines = [
        (
            r.variable,
            r.store,
            r.reference,
            "-" if r.size is None else str(r.size),
            r.status + (f": {r.error}" if r.error else ""),
        )
        for r in rows
    ]
    widths = [max(len(x) for x in column) for column in zip(HEADER, *lines, strict=False)]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (HEADER, *lines)
    ]
    if not rows:
        out.append("(no references in the environment)")
    return "\n".join(out) + "\n"
