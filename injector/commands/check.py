"""``injector check [--json] [--env-file PATH]``: is every reference reachable? Never a value.

The plan comes from the environment, or from a dotenv file of ``NAME=reference`` lines.
Every reference is fetched the way exec fetches it (same batching, same deadline); the
report shows the variable, the store, the reference, the size and the status of each, on
stdout, and the exit code is the one exec would have had.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from injector import envfile, files, plan, sinks
from injector.deadline import Deadline
from injector.errors import BadDataError, ConfigError, InjectorError, UsageError
from injector.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config
    from injector.references import Reference

FLAGS: dict[str, bool] = {"--json": False, "--env-file": True}
ENV_FILE_ROW = "(env-file)"
DIRECTORY_ROW = "(secrets dir)"


@dataclass(frozen=True)
class Row:
    """One line of the report: never a value, only its size."""

    variable: str
    store: str
    reference: str
    size: int | None
    status: str
    exit_code: int
    error: str | None = None


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Resolve the plan, print the report, and exit as exec would."""
    if args:
        raise UsageError(f"check takes no arguments, not {args[0]!r}")
    environ = _environment(flags.get("--env-file"))
    the_plan = plan.build(environ, config)
    rows = _directory_row(the_plan, config) + _rows(the_plan, _check_all(the_plan, config))
    code = next((row.exit_code for row in rows if row.exit_code), 0)
    if "--json" in flags:
        report = {"ok": code == 0, "exit_code": code, "references": [asdict(r) for r in rows]}
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(table(rows))
    return code


def _environment(path: str | None) -> Mapping[str, str]:
    if path is None:
        return os.environ
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read --env-file {path}: {exc.strerror}") from None
    pairs = envfile.parse(data, reference=path)
    return {name: value.decode("utf-8", "replace") for name, value in pairs}


Outcome = dict["Reference", "Secret | InjectorError | None"]


def _check_all(the_plan: plan.Plan, config: Config) -> Outcome:
    """Fetch every reference once, keeping each one's result or error."""
    refs = the_plan.references()
    if not refs:
        return {}
    from injector.resolve import resolve_each  # noqa: PLC0415 - imports botocore

    return resolve_each(refs, Deadline(config.timeout), config.max_concurrency)


def _rows(the_plan: plan.Plan, outcome: Outcome) -> list[Row]:
    rows = [
        _row(d.variable, d.reference, outcome[d.reference], in_env=not d.to_file)
        for d in the_plan.deliveries
    ]
    rows.extend(_env_file_row(ref, outcome[ref]) for ref in the_plan.env_files)
    return rows


def _row(
    variable: str, ref: Reference, result: Secret | InjectorError | None, *, in_env: bool
) -> Row:
    store = ref.source.service
    if isinstance(result, InjectorError):
        return Row(variable, store, str(ref), None, result.kind, result.exit_code, result.message)
    if result is None:
        return Row(variable, store, str(ref), None, "missing (optional)", 0)
    problem = _env_problem(variable, result) if in_env else None
    row = Row(variable, store, str(ref), len(result), "ok", 0)
    if problem is not None:
        return replace(row, status=problem.kind, exit_code=problem.exit_code, error=problem.message)
    return row


def _env_problem(variable: str, secret: Secret) -> InjectorError | None:
    """Return what exec would refuse about putting this value into an environment."""
    value = secret.reveal()
    if b"\x00" in value:
        return BadDataError(f"the value for {variable} contains a NUL byte (use {variable}_FILE)")
    if len(variable) + len(value) + 2 > sinks.MAX_ENV_STRING:
        return BadDataError(f"the value for {variable} is above 128 KiB (use {variable}_FILE)")
    return None


def _env_file_row(ref: Reference, result: Secret | InjectorError | None) -> Row:
    row = _row(ENV_FILE_ROW, ref, result, in_env=False)
    if not isinstance(result, Secret):
        return row
    try:
        pairs = envfile.parse(result.reveal(), reference=str(ref))
    except InjectorError as exc:
        return replace(row, status=exc.kind, exit_code=exc.exit_code, error=exc.message)
    return replace(row, status=f"ok ({len(pairs)} variables)")


def _directory_row(the_plan: plan.Plan, config: Config) -> list[Row]:
    """Report whether exec would accept the secrets directory for ``*_FILE`` variables."""
    if not any(d.to_file for d in the_plan.deliveries):
        return []
    try:
        files.preflight(config)
    except InjectorError as exc:
        return [Row(DIRECTORY_ROW, "files", "-", None, exc.kind, exc.exit_code, exc.message)]
    return [Row(DIRECTORY_ROW, "files", "-", None, "ok", 0)]


def table(rows: list[Row]) -> str:
    """Render *rows* as an aligned text table."""
    header = ("VARIABLE", "STORE", "REFERENCE", "SIZE", "STATUS")
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
    widths = [max(len(x) for x in column) for column in zip(header, *lines, strict=False)]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *lines)
    ]
    if not rows:
        out.append("(no references in the environment)")
    return "\n".join(out) + "\n"
