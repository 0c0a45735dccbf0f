"""``injector scan TARGET [options]``: parse the options, run the scan, write the report.

Exit codes: 0 clean or below the threshold, 1 findings at or above it (or a STOP verdict),
64 usage, 65 corrupt or unsupported archive, 66 target not found, 69 engine unavailable.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from injector.errors import UsageError
from injector.scan import baseline, layers, policy, report, run, sarif
from injector.scan import settings as scan_settings
from injector.scan.model import SEVERITIES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config
    from injector.scan.model import Finding, Image

FORMATS = ("text", "json", "sarif")
MAX_JOBS = 64


def main(config: Config, flags: Mapping[str, str | None], args: Sequence[str]) -> int:
    """Scan the one TARGET and report; returns the exit code."""
    if len(args) != 1:
        raise UsageError(
            "scan takes exactly one TARGET (image, docker-archive:, oci:, oci-archive:, dir:)"
        )
    options = _options(flags)
    gates = policy.load(str(flags["--policy"])) if flags.get("--policy") else []
    job = _job(config, flags, options, gates)
    target = args[0]
    image = run.scan(target, os.environ, job)
    found = run.collect(image, target, job)
    result = _result(target, image, found, flags, gates)
    if flags.get("--write-baseline"):
        baseline.write(str(flags["--write-baseline"]), found)
    _write(_render(result, options["format"], job, gates), flags.get("--output"))
    return result.exit_code


def _options(flags: Mapping[str, str | None]) -> dict[str, str]:
    fmt = flags.get("--format") or "text"
    fail_on = (flags.get("--fail-on") or "high").lower()
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fail_on not in SEVERITIES[1:]:
        raise UsageError(f"--fail-on must be one of low, medium, high, critical, not {fail_on!r}")
    return {"format": fmt, "fail_on": fail_on}


def _number(flags: Mapping[str, str | None], name: str, default: int, top: int) -> int:
    text = flags.get(name)
    if text is None:
        return default
    multiplier = 1
    for suffix, factor in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)):
        if text.upper().endswith((suffix, suffix + "IB", suffix + "B")):
            text, multiplier = text.upper().split(suffix, 1)[0], factor
            break
    try:
        value = int(text) * multiplier
    except ValueError:
        raise UsageError(f"{name} needs a whole number, not {flags.get(name)!r}") from None
    if not 1 <= value <= top:
        raise UsageError(f"{name} must be between 1 and {top}")
    return value


def _job(
    config: Config,
    flags: Mapping[str, str | None],
    options: dict[str, str],
    gates: list[policy.Gate],
) -> run.Job:
    from injector.scan import cache, detect, known  # noqa: PLC0415 - heavy imports

    settings = scan_settings.load(flags.get("--config"))
    max_file = _number(flags, "--max-file-size", 10 << 20, 1 << 30)
    jobs = _number(flags, "--jobs", min(4, os.cpu_count() or 1), MAX_JOBS)
    values = known.load(str(flags["--known-from"]), config) if flags.get("--known-from") else []
    content = policy.content_regexes(gates)
    detector = detect.Detector(settings, values, content)
    store = None
    if not values and "--no-cache" not in flags:
        digest = run.rules_hash(
            f"{settings.digest_input()}|{[p.pattern for p in content]}|{max_file}"
        )
        store = cache.Cache(cache.directory(os.environ), digest)
    skip: frozenset[str] = frozenset()
    if flags.get("--skip-layers-of"):
        skip = run.diff_ids_of(str(flags["--skip-layers-of"]), os.environ)
    del options
    return run.Job(detector, layers.Limits(max_file=max_file), jobs, store, skip)


def _result(
    target: str,
    image: Image,
    found: list[Finding],
    flags: Mapping[str, str | None],
    gates: list[policy.Gate],
) -> run.Result:
    known = baseline.load(str(flags["--baseline"])) if flags.get("--baseline") else frozenset()
    kept = [f for f in found if f.fingerprint not in known]
    rows = policy.evaluate(gates, image, kept) if gates else []
    threshold = (flags.get("--fail-on") or "high").lower()
    decides = None if gates and not flags.get("--fail-on") else threshold
    code = run.exit_code(kept, decides, rows)
    return run.Result(target, image, kept, threshold, code, len(found) - len(kept), rows)


def _render(result: run.Result, fmt: str, job: run.Job, gates: list[policy.Gate]) -> str:
    if fmt == "json":
        import json  # noqa: PLC0415

        text = report.to_json(result)
        if gates:
            document = json.loads(text)
            document["policy"] = [row._asdict() for row in result.policy]
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        return text
    if fmt == "sarif":
        return sarif.to_sarif(result, {p.rule.id: p.rule for p in job.detector.settings.extra})
    text = report.to_text(result)
    if gates:
        tag = result.image.tags[0] if result.image.tags else result.target
        text += policy.table(result.policy, result.image.image_id.removeprefix("sha256:"), tag)
    return text


def _write(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)  # every finding is already redacted by injector.scan.redact
        return
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write --output {path}: {exc.strerror}") from None
