"""Pure rendering of benchmark results: numbers in, Markdown out (no I/O, no processes).

``bench/bench.py`` measures and builds one plain dict (also saved as JSON under
build/bench/); everything here turns that dict into ``bench/results.md`` and the README's
performance table, so the rendering can be tested on made-up numbers.

A *stats* value is ``{"median": ms, "min": ms, "max": ms, "n": runs}`` (see :func:`stats`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
README_SECTION = "## Performance"

# The start-up budget of issue 3 (milliseconds, MB) and the scaling target of issue 7.
BUDGET_NONE_MS = 200.0
BUDGET_S3_MS = 400.0
BUDGET_RSS_MB = 60.0
BUDGET_SIZE_MB = 15.0
SCALING_FACTOR = 2.0
PER_CALL = {"s3": 1, "ssm": 10, "secretsmanager": 20}
BINARY = "dist/injector"
BASELINE = "dist/injector (baseline)"
TMPFS = "dist/injector, TMPDIR on tmpfs"  # the same binary, its launchers extracting to RAM
BOTO3 = "boto3 script"
ONE_PROCESS = "dist/injector, INJECTOR_SINGLE_PROCESS=1"  # the same binary, no fork
STOCK_HTTP = "dist/injector, INJECTOR_STOCK_HTTP=1"  # the same binary, urllib3's session
MOTO_CPUS = (
    "moto and the proxy are busy on the same 2 CPUs: the second one is not free for the child"
)
SPLIT_SHOWN = 100  # secrets: 10 make 6 calls, so both rows of 10 ran in one process
FLOOR = "server floor: curl, the same calls"  # the variant bench/floor.py's calls make
LAST_STEP = "dist/injector (all of the above)"  # the last row of 2c unless a --step is it
# Issue 15: against an equivalent boto3 script, side by side; 100 secrets against 1.
SPEED_RATIO = 0.8
SPEED_SCALING = 1.3
SPEED_RSS_MIB = 40.0
SPEED_SIZE_MIB = 25.0
ITEM_LABELS = {
    "gc paused": "cyclic GC paused while botocore is imported, then gc.freeze()",
    "docs stub": "botocore.docs replaced by a stub",
    "docs + http2 stubs": "urllib3.http2 replaced by a stub (no importlib.metadata)",
    "stubs + trimmed models": "trimmed service models (only the operations called)",
    "+ precompiled regexes": "botocore's and urllib3's regular expressions precompiled at build",
}

Stats = dict[str, float]
Data = Mapping[str, Any]


# --------------------------------------------------------------------------- numbers


def stats(values: Iterable[float]) -> Stats:
    """Return median, min, max and count of *values* (empty: NaN figures and n=0)."""
    items = list(values)
    if not items:
        return {"median": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {
        "median": statistics.median(items),
        "min": min(items),
        "max": max(items),
        "n": len(items),
    }


def minimum_calls(mix: Mapping[str, int]) -> int:
    """Return the fewest API calls that fetch *mix* (``{"s3": 34, "ssm": 33, ...}``)."""
    return sum(math.ceil(count / PER_CALL[service]) for service, count in mix.items())


def mix_for(count: int) -> dict[str, int]:
    """Split *count* secrets round-robin over S3, SSM and Secrets Manager (S3 first)."""
    services = ("s3", "ssm", "secretsmanager")
    return {s: len(range(i, count, len(services))) for i, s in enumerate(services)}


def ratio(numerator: float, denominator: float) -> float:
    """Return numerator / denominator, NaN when either is missing or the divisor is 0."""
    if not denominator or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def scaling_verdict(rows: Sequence[Mapping[str, Any]], variant: str = BINARY) -> dict[str, Any]:
    """Judge the scaling target for *variant*: 100 secrets within 2x of 1, calls minimal."""
    mine = {row["n"]: row for row in rows if row["variant"] == variant}
    one, hundred = mine.get(1), mine.get(100)
    factor = math.nan
    if one is not None and hundred is not None:
        factor = ratio(hundred["exec"]["median"], one["exec"]["median"])
    calls_ok = bool(mine) and all(row["calls"] == row["calls_min"] for row in mine.values())
    return {
        "variant": variant,
        "factor": factor,
        "time_ok": not math.isnan(factor) and factor <= SCALING_FACTOR,
        "calls_ok": calls_ok,
    }


def floor_share(rows: Sequence[Mapping[str, Any]], variant: str = BINARY) -> dict[str, float]:
    """Compare the server floor (bench/floor.py) with the time 1.3x of one secret allows.

    Returns the floor's own 100-of-1 factor, the milliseconds its 100-secret calls add over
    its one call, and the milliseconds ``SPEED_SCALING`` leaves *variant* over its one secret
    (all NaN when a row is missing).
    """
    floor = scaling_verdict(rows, FLOOR)
    mine = {row["n"]: row for row in rows if row["variant"] == variant}
    ends = {row["n"]: row["exec"]["median"] for row in rows if row["variant"] == FLOOR}
    added = ends[100] - ends[1] if {1, 100} <= ends.keys() else math.nan
    budget = (SPEED_SCALING - 1) * mine[1]["exec"]["median"] if 1 in mine else math.nan
    return {"factor": floor["factor"], "added_ms": added, "budget_ms": budget}


def budget_checks(data: Data) -> list[dict[str, Any]]:
    """Return issue 3's start-up budget items for dist/injector: what, limit, measured, ok."""
    checks: list[dict[str, Any]] = []

    def add(what: str, limit: float, value: float, unit: str) -> None:
        ok = not math.isnan(value) and value <= limit
        checks.append({"what": what, "limit": limit, "value": value, "unit": unit, "ok": ok})

    none = _row(data.get("startup", []), BINARY)
    one = _row(data.get("one_secret", []), BINARY)
    if none is not None:
        add("no references, start to exec (median)", BUDGET_NONE_MS, none["exec"]["median"], "ms")
    if one is not None:
        add("one S3 secret, start to exec (median)", BUDGET_S3_MS, one["exec"]["median"], "ms")
    rss = [row["rss"]["max"] for row in (none, one) if row is not None]
    if rss:
        add("peak RSS (max over runs, with and without a secret)", BUDGET_RSS_MB, max(rss), "MB")
    size = data.get("size", {}).get("binary_bytes")
    if size:
        add("binary size", BUDGET_SIZE_MB, size / 1e6, "MB")
    return checks


def _row(rows: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    return next((row for row in rows if row["name"] == name), None)


def _boto3(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((row for row in rows if row["name"].startswith(BOTO3)), None)


def exec_ratio(rows: Sequence[Mapping[str, Any]], name: str = BINARY) -> float:
    """Return *name*'s median time to exec over the boto3 script's in the same table."""
    mine, base = _row(rows, name), _boto3(rows)
    if mine is None or base is None:
        return math.nan
    return ratio(mine["exec"]["median"], base["exec"]["median"])


def cpu_ratio(rows: Sequence[Mapping[str, Any]], name: str = BINARY) -> float:
    """Return *name*'s median CPU (user+sys of its process tree) over the boto3 script's."""
    mine, base = _row(rows, name), _boto3(rows)
    if mine is None or base is None or not mine.get("cpu") or not base.get("cpu"):
        return math.nan
    return ratio(mine["cpu"]["median"], base["cpu"]["median"])


def speed_checks(data: Data) -> list[dict[str, Any]]:
    """Return issue 15's targets for dist/injector: what, limit, measured, ok."""
    checks: list[dict[str, Any]] = []

    def add(what: str, limit: float, value: float, unit: str) -> None:
        ok = not math.isnan(value) and value <= limit
        checks.append({"what": what, "limit": limit, "value": value, "unit": unit, "ok": ok})

    add(
        "one S3 secret, x of bench/boto3_fetch.py",
        SPEED_RATIO,
        exec_ratio(data.get("one_secret", [])),
        "x",
    )
    for entry in data.get("services", []):
        add(f"{entry['what']}, x of its boto3 script", SPEED_RATIO, exec_ratio(entry["rows"]), "x")
    rows = data.get("scaling", {}).get("rows", [])
    if rows:
        add(
            "100 mixed secrets (20 ms per request), x of one",
            SPEED_SCALING,
            scaling_verdict(rows)["factor"],
            "x",
        )
    if any(row["variant"] == FLOOR for row in rows):
        add(
            "the same calls from curl (server floor, bench/floor.py), x of its one call",
            SPEED_SCALING,
            floor_share(rows)["factor"],
            "x",
        )
    replayed = data.get("replay", {}).get("rows", [])
    if replayed:
        add(
            "100 mixed secrets, moto's answers replayed (bench/replay.py, section 3a), x of one",
            SPEED_SCALING,
            scaling_verdict(replayed)["factor"],
            "x",
        )
    startup = data.get("startup", [])
    mine, before = _row(startup, BINARY), _row(startup, BASELINE)
    if mine is not None and before is not None:
        add(
            "no references, x of the baseline build",
            1.0,
            ratio(mine["exec"]["median"], before["exec"]["median"]),
            "x",
        )
    rss = [r["rss"]["max"] for r in (mine, _row(data.get("one_secret", []), BINARY)) if r]
    if rss:
        add("peak RSS (GNU time's KiB / 1024)", SPEED_RSS_MIB, max(rss), "MiB")
    size = data.get("size", {}).get("binary_bytes")
    if size:
        add("binary size", SPEED_SIZE_MIB, size / 2**20, "MiB")
    return checks


def items_line(data: Data) -> str:
    """Say which items issue 15 removed from the start-up and what each saved."""
    items = data.get("items")
    if not items:
        return ""
    parts, previous = [], items.get("stock", {}).get("median", math.nan)
    before = items.get("stock", {}).get("instructions")
    for key, label in ITEM_LABELS.items():
        if key not in items:  # measured before this item existed
            continue
        now = items.get(key, {}).get("median", math.nan)
        counted = items.get(key, {}).get("instructions")
        extra = ""
        if before and counted:
            share = 100 * (before - counted) / items["stock"]["instructions"]
            extra = f" ({fmt((before - counted) / 1e6)} M instructions, {fmt(share, 1)}%)"
        parts.append(f"{label} {fmt(previous - now)} ms{extra}")
        previous, before = now, counted
    total = items.get("stock", {}).get("median", math.nan) - previous
    return (
        f"**Removed by issue 15** (bench/items.py: import botocore and create the S3 and SSM "
        f"clients, unfrozen, median CPU ms of {items['stock'].get('n', '?')} interleaved "
        "fresh interpreters, and callgrind's instruction count where measured, each item "
        "added to the previous): "
        + "; ".join(parts)
        + f"; in all {fmt(total)} of {fmt(items['stock']['median'])} ms. Frozen, each "
        "import and each byte of model costs more; the tables above show the result."
    )


def step_figures(steps: Data) -> list[dict[str, Any]]:
    """Per build step of 2c: to exec, x boto3 script, saved vs the previous step, no refs."""
    base = steps.get("boto3", {}).get("exec", {}).get("median", math.nan)
    figures, previous = [], math.nan
    for row in steps.get("rows", []):
        now = row["exec"]["median"]
        figures.append(
            {
                "name": row["name"],
                "exec": row["exec"],
                "ratio": ratio(now, base),
                "saved_ms": previous - now,
                "saved_pct": 100 * ratio(previous - now, previous),
                "none": row.get("none"),
            }
        )
        previous = now
    return figures


def _saved(ms: float, pct: float) -> str:
    if math.isnan(ms):
        return "-"
    return f"{fmt(ms)} ms ({fmt(pct)}%)"


def steps_line(steps: Data) -> str:
    """Say what each build change of 2c saved, previous step minus this one."""
    figures = step_figures(steps)
    if len(figures) < 2:
        return ""
    first, last = figures[0]["exec"]["median"], figures[-1]["exec"]["median"]
    return (
        "**Saved by each build change** (median to exec with one S3 secret, the previous "
        "step's minus this one's, in the same rounds): "
        + "; ".join(f"{f['name']}: {_saved(f['saved_ms'], f['saved_pct'])}" for f in figures[1:])
        + f"; in all {_saved(first - last, 100 * ratio(first - last, first))} of "
        f"{figures[0]['name']}'s {fmt(first)} ms."
    )


def _steps_section(data: Data) -> list[str]:
    """2c: the build changes of issue 15 one at a time, beside the boto3 script."""
    steps = data.get("steps") or {}
    if not steps.get("rows"):
        return []
    out = ["", "### 2c. Build changes of issue 15, one at a time", ""]
    out += [
        (
            "Each step is a build of the binary with one more change than the step above it "
            "(`bench/bench.py --step NAME=PATH`, in the order given; the last is "
            "`dist/injector`). Each fetches `s3://bench/one` as in section 2, was checked to "
            "deliver the right value, and ran interleaved with the boto3 script in the same "
            "rounds. *saved vs previous* is the previous step's median to exec minus this "
            "one's (and as a share of the previous); *no references* is the same binary's "
            "to exec with section 1's environment and target, in the same rounds."
        ),
        "",
    ]
    rows = [
        [
            f["name"],
            fmt_stats(f["exec"]),
            fmt(f["ratio"], 2),
            _saved(f["saved_ms"], f["saved_pct"]),
            fmt_stats(f["none"]),
        ]
        for f in step_figures(steps)
    ]
    boto3 = steps.get("boto3") or {}
    if boto3:
        median = boto3["exec"]["median"]
        rows.append(
            [
                f"`{boto3['name']}`",
                fmt_stats(boto3["exec"]),
                fmt(ratio(median, median), 2),
                "-",
                "-",
            ]
        )
    out += table(["step", "to exec", "x boto3 script", "saved vs previous", "no references"], rows)
    line = steps_line(steps)
    return [*out, "", line] if line else out


# --------------------------------------------------------------------------- formatting


def fmt(value: float | None, digits: int = 0) -> str:
    """Format a number, or an en dash for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def fmt_stats(item: Stats | None, digits: int = 0) -> str:
    """``median (min-max)`` of a stats value."""
    if not item or not item.get("n"):
        return "-"
    return (
        f"**{fmt(item['median'], digits)}** ({fmt(item['min'], digits)}-{fmt(item['max'], digits)})"
    )


def yes_no(ok: bool) -> str:
    """Render a verdict."""
    return "yes" if ok else "**NO**"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Return the lines of a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _load(value: Sequence[float] | None) -> str:
    return " / ".join(f"{x:.2f}" for x in value) if value else "-"


# --------------------------------------------------------------------------- results.md


def render_results(data: Data) -> str:  # noqa: C901, PLR0915 - one linear document
    """Render the whole of ``bench/results.md``."""
    out: list[str] = ["# Benchmarks", ""]
    out += [
        (
            "Generated by `make bench` (`bench/bench.py`); do not edit by hand. Every figure is "
            "wall-clock milliseconds unless marked: **median** (min-max) over *n* runs, the "
            "variants of a table interleaved in a random order in each round after one "
            "discarded warm-up round, all in one invocation on one machine. Only 127.0.0.1 "
            "is contacted (moto server, our latency proxy)."
        ),
        "",
    ]
    machine = data.get("machine", {})
    out += ["## Machine", ""]
    out += table(["item", "value"], [[k, str(v)] for k, v in machine.items()])
    load = data.get("load", {})
    out += [
        "",
        "Load average (1/5/15 min) at each section's start: "
        + "; ".join(f"{k} {_load(v)}" for k, v in load.items())
        + ". The machine has 2 cores; a 1-minute load above 1 means other work "
        "competed for them and the figures are inflated (medians less than maxima).",
        "",
    ]
    notes = data.get("notes") or []
    if notes:
        out += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]

    out += ["## Start-up budget (issue 3) for dist/injector", ""]
    out += table(
        ["item", "limit", "measured", "met"],
        [
            [
                c["what"],
                f"{fmt(c['limit'])} {c['unit']}",
                f"{fmt(c['value'], 1)} {c['unit']}",
                yes_no(c["ok"]),
            ]
            for c in budget_checks(data)
        ],
    )
    out += [""]

    out += ["## Start-up targets (issue 15) for dist/injector", ""]
    out += table(
        ["item", "limit", "measured", "met"],
        [
            [
                c["what"],
                f"{fmt(c['limit'], 1)} {c['unit']}",
                f"{fmt(c['value'], 2)} {c['unit']}",
                yes_no(c["ok"]),
            ]
            for c in speed_checks(data)
        ],
    )
    out += [""]

    out += ["## 1. Start to exec, no references", ""]
    out += [
        (
            "Target `/bin/date +%s%N`: it prints the time it was exec'd, so *to exec* is start "
            "to the target's exec; *to exit* is until the whole process tree is gone (adds the "
            "bootloader's clean-up of its temporary directory). Peak RSS (MB) is the "
            "largest resident set in the process tree as GNU `time -f %M` reports it: every "
            "command runs under `/usr/bin/time` (about 1 ms, the same for all)."
        ),
        "",
    ]
    out += _process_table(data.get("startup", []))
    out += ["", "## 2. One S3 secret from moto on 127.0.0.1", ""]
    out += [
        "Each variant fetches `s3://bench/one` (a 40-byte object) and execs the target with the "
        "value in `V`; each was checked to deliver the right value before timing. "
        + str(data.get("one_secret_note", "")),
        "",
    ]
    out += _process_table(data.get("one_secret", []), ratio_to_boto3=True)
    for entry in data.get("services", []):
        out += ["", f"### 2b. {entry['what'][:1].upper() + entry['what'][1:]}", ""]
        out += _process_table(entry["rows"], ratio_to_boto3=True)
    out += _steps_section(data)

    scaling = data.get("scaling", {})
    out += ["", "## 3. Scaling: many secrets, 20 ms per request", ""]
    out += [
        (
            f"{scaling.get('latency_ms', 20)} ms of latency added to every request by "
            "`tests/support/proxy.py` in front of moto. Secrets are split round-robin over "
            "S3, SSM and Secrets Manager (S3 first). *calls* is what the proxy counted per "
            "run; *minimum* is one call per S3 object + ceil(SSM/10) + ceil(SM/20). *CPU* is "
            "the injector process tree's own user+sys time (GNU time), i.e. what it computes "
            "rather than waits for. "
            f"Concurrency: the default (`INJECTOR_MAX_CONCURRENCY`="
            f"{scaling.get('concurrency', 16)})."
        ),
        "",
    ]
    rows = scaling.get("rows", [])
    out += table(SCALING_HEADER, [_scaling_row(row, rows) for row in rows])
    for variant in sorted({row["variant"] for row in rows} - {FLOOR}):
        verdict = scaling_verdict(rows, variant)
        out += [
            "",
            (
                f"Target for `{variant}`: 100 secrets take {fmt(verdict['factor'], 2)}x "
                f"the time of 1 (limit {SCALING_FACTOR:g}x): {yes_no(verdict['time_ok'])}; API "
                f"calls at the batched minimum: {yes_no(verdict['calls_ok'])}."
            ),
        ]
    out += _floor_lines(rows) + _split_lines(rows, MOTO_CPUS)
    out += _replay_section(data.get("replay", {}))
    out += _tls_section(data.get("tls", {}))
    timeline = scaling.get("timeline", [])
    if timeline:
        out += ["", "### Why: timeline of `injector check` (bench/timeline.py)", ""]
        out += [
            (
                "`python -m injector check` with botocore instrumented, same proxy and latency; "
                "medians, ms from the end of imports (resolve) or per event. *create* = client "
                "creation per service (start+duration); *HTTP* = one request's round trip "
                "through the proxy."
            ),
            "",
        ]
        out += table(
            [
                "secrets",
                "resolve",
                "S3 client",
                "SSM client",
                "SM client",
                "calls",
                "HTTP mean / max",
                "last response",
            ],
            [
                [
                    f"{r['n']:,}",
                    fmt(r.get("resolve_ms")),
                    _create(r, "s3"),
                    _create(r, "ssm"),
                    _create(r, "secretsmanager"),
                    fmt(r.get("call_n")),
                    f"{fmt(r.get('http_mean'))} / {fmt(r.get('http_max'))}",
                    fmt(r.get("http_last_end")),
                ]
                for r in timeline
            ],
        )
        out += _timeline_cpu(timeline)
    if scaling.get("analysis"):
        out += [""] + [f"- {line}" for line in scaling["analysis"]]
    extra = scaling.get("concurrency_rows", [])
    if extra:
        out += ["", "### The same with other `INJECTOR_MAX_CONCURRENCY` values", ""]
        out += table(
            ["variant", "secrets", "concurrency", "to exec", "calls"],
            [
                [
                    f"`{r['variant']}`",
                    str(r["n"]),
                    str(r["concurrency"]),
                    fmt_stats(r["exec"]),
                    str(r["calls"]),
                ]
                for r in extra
            ],
        )

    out += _path_load(data.get("path_load", []))

    size = data.get("size", {})
    out += ["", "## 4. Size, memory, build", ""]
    out += table(
        ["item", "value"],
        [
            [
                "dist/injector size",
                (
                    f"{fmt(size.get('binary_bytes', math.nan) / 1e6, 2)} MB "
                    f"({fmt(size.get('binary_bytes'))} bytes)"
                ),
            ],
            ["dist/injector sha256", f"`{size.get('sha256', '-')}`"],
            ["dist/injector version", f"`{size.get('version', '-')}`"],
            ["peak RSS, no references (MB)", fmt_stats(size.get("rss_none"), 1)],
            ["peak RSS, one S3 secret (MB)", fmt_stats(size.get("rss_s3"), 1)],
            ["build time", size.get("build", "-")],
            *[
                [f"written to TMPDIR per start, `{name}` (MB)", fmt(written / 1e6, 2)]
                for name, written in size.get("extracted_bytes", {}).items()
            ],
        ],
    )

    out += _arm64_section(data.get("arm64", {}))

    out += ["", "## 5. Cold container start (Docker, busybox image)", ""]
    out += [str(data.get("container_note", "")), ""]
    out += table(
        ["variant", "`docker run --rm` wall"],
        [[f"`{row['name']}`", fmt_stats(row["exit"])] for row in data.get("container", [])],
    )

    profile = data.get("profile", {})
    out += ["", "## Where start-up time goes", ""]
    phases = profile.get("phases", [])
    if phases:
        out += [
            (
                "`dist/injector` under `strace -f --seccomp-bpf -ttt` (process syscalls, "
                "`prlimit64` and `connect` only; strace adds a little), milliseconds, median of "
                f"{profile.get('phase_runs', '?')} runs. Phase boundaries: staticx's fork, "
                "the program's execve (PyInstaller onedir: Python runs in that process), "
                "its first `prlimit64(RLIMIT_CORE)` (injector's hardening, before the secrets "
                "are resolved: botocore is imported after it), its first `connect` (clients "
                "created), the target's execve, the bootloader's exit."
            ),
            "",
        ]
        out += table(
            ["phase", "no references", "one S3 secret"],
            [[p["name"], fmt(p.get("none")), fmt(p.get("s3"))] for p in phases],
        )
    imports = profile.get("imports", [])
    if imports:
        out += [
            "",
            (
                "`python -X importtime -m injector /bin/true` with one S3 reference, the "
                f"10 largest cumulative imports (ms; all imports: "
                f"{fmt(profile.get('import_total_ms'))} ms):"
            ),
            "",
        ]
        out += table(
            ["module", "cumulative", "self"],
            [[f"`{m['name']}`", fmt(m["cumulative_ms"], 1), fmt(m["self_ms"], 1)] for m in imports],
        )
    packages = profile.get("import_packages", [])
    if packages:
        out += [
            "",
            (
                "The same imports, self time summed by package (a standard-library module "
                "counts for the package that imported it first), ms:"
            ),
            "",
        ]
        out += table(["package", "self"], [[p["name"], fmt(p["self_ms"], 1)] for p in packages])
    for line in profile.get("findings", []):
        out += ["", line]
    if items_line(data):
        out += ["", items_line(data)]
    out += [""]
    return "\n".join(out)


CPU_HEADER = [
    "secrets",
    "resolve CPU",
    "session and clients",
    "calls (per call)",
    "HTTP send",
    "parse",
    "sign",
    "user agent",
    "rest of the calls",
    "outside the calls",
]


def _timeline_cpu(timeline: Sequence[Mapping[str, Any]]) -> list[str]:
    """Render the timeline's CPU time (thread time, all threads): where the resolve's goes."""
    rows = [r for r in timeline if r.get("resolve_cpu") is not None and r.get("call_cpu")]
    if not rows:
        return []
    lines = [
        "",
        (
            "CPU time of the same runs (ms, all threads; *session and clients* = every "
            "`Clients.get`, which builds the session and each client once; botocore's parts "
            "of the calls are nested in *calls*; *outside the calls* = injector's own work, "
            "its threads and reading the bodies):"
        ),
        "",
    ]
    return lines + table(CPU_HEADER, [_cpu_row(r) for r in rows])


def _cpu_row(row: Mapping[str, Any]) -> list[str]:
    calls, parts = row["call_cpu"], ("http", "sign", "parse", "useragent")
    rest = calls - sum(row.get(f"{part}_cpu") or 0 for part in parts)
    outside = row["resolve_cpu"] - calls - (row.get("get_cpu") or 0)
    return [
        f"{row['n']:,}",
        fmt(row["resolve_cpu"]),
        fmt(row.get("get_cpu")),
        f"{fmt(calls)} ({calls / max(1, row.get('call_n') or 1):.2f})",
        fmt(row.get("http_cpu")),
        fmt(row.get("parse_cpu")),
        fmt(row.get("sign_cpu")),
        fmt(row.get("useragent_cpu")),
        fmt(rest),
        fmt(outside),
    ]


def _create(row: Mapping[str, Any], service: str) -> str:
    start, took = row.get(f"{service}_create_start"), row.get(f"{service}_create_ms")
    if took is None:
        return "-"
    return f"at {fmt(start)} +{fmt(took)}"


def _process_table(rows: Sequence[Mapping[str, Any]], *, ratio_to_boto3: bool = False) -> list[str]:
    if not ratio_to_boto3:
        return table(
            ["variant", "to exec", "to exit", "peak RSS MB"],
            [
                [
                    f"`{row['name']}`",
                    fmt_stats(row.get("exec")),
                    fmt_stats(row.get("exit")),
                    fmt_stats(row.get("rss"), 1),
                ]
                for row in rows
            ],
        )
    return table(
        [
            "variant",
            "to exec",
            "x boto3 script",
            "CPU user+sys",
            "CPU x boto3 script",
            "to exit",
            "peak RSS MB",
        ],
        [
            [
                f"`{row['name']}`",
                fmt_stats(row.get("exec")),
                fmt(exec_ratio(rows, row["name"]), 2),
                fmt_stats(row.get("cpu")),
                fmt(cpu_ratio(rows, row["name"]), 2),
                fmt_stats(row.get("exit")),
                fmt_stats(row.get("rss"), 1),
            ]
            for row in rows
        ],
    )


SCALING_HEADER = [
    "variant",
    "secrets (S3/SSM/SM)",
    "to exec",
    "to exit",
    "x of 1 secret",
    "CPU user+sys",
    "calls",
    "minimum",
    "calls by operation",
]


def _floor_lines(
    rows: Sequence[Mapping[str, Any]], where: str = "through the same proxy into the same moto"
) -> list[str]:
    """Say what the server floor leaves of issue 15's 1.3x target (section 3 and README)."""
    if not any(row["variant"] == FLOOR for row in rows):
        return []
    share = floor_share(rows)
    return [
        "",
        (
            f"Server floor (`{FLOOR}`, bench/floor.py): the calls of 100 secrets, sent by "
            f"curl {where}, take {fmt(share['factor'], 2)}x the time of one call and add "
            f"{fmt(share['added_ms'])} ms to it; 1.3x of `{BINARY}`'s one secret leaves "
            f"{fmt(share['budget_ms'])} ms."
        ),
    ]


def _replay_section(replay: Mapping[str, Any]) -> list[str]:
    """3a: the same references against bench/replay.py (moto's answers, little server CPU)."""
    rows = replay.get("rows", [])
    if not rows:
        return []
    out = ["", "### 3a. The same against replayed answers (bench/replay.py)", ""]
    out += [
        (
            "moto and the proxy are Python processes doing real work for every call on the "
            "same 2 cores as the client (moto opens a connection and a thread per request), "
            "so in section 3 their CPU is in every client's time: AWS would not add it. Here "
            "one asyncio process answers each distinct request with what moto answered the "
            f"first time ({fmt(replay.get('recorded'))} answers recorded in the warm-up "
            f"round), {fmt(replay.get('latency_ms', 20))} ms late, on keep-alive connections: "
            "what is left is the client's own work and the latency."
            + _priority_sentence(replay.get("priority"))
        ),
        "",
    ]
    out += table(SCALING_HEADER, [_scaling_row(row, rows) for row in rows])
    verdict = scaling_verdict(rows)
    out += [
        "",
        (
            f"`{BINARY}` against replayed answers: 100 secrets take "
            f"{fmt(verdict['factor'], 2)}x the time of 1 (issue 15: <= {SPEED_SCALING:g}x: "
            f"{yes_no(not math.isnan(verdict['factor']) and verdict['factor'] <= SPEED_SCALING)}"
            f"); API calls at the batched minimum: {yes_no(verdict['calls_ok'])}."
        ),
    ]
    return out + _floor_lines(rows, "to the replaying server") + _split_lines(rows)


def _tls_ends(tls: Mapping[str, Any]) -> dict[tuple[str, int], float]:
    """Return section 3e's median time to exec by (variant, secrets)."""
    return {(r["variant"], r["n"]): r["exec"]["median"] for r in tls.get("rows", [])}


def tls_factors(tls: Mapping[str, Any]) -> dict[str, float]:
    """Return each variant's 100-secrets time over its 1-secret time in section 3e."""
    ends = _tls_ends(tls)
    return {
        variant: ratio(ends[variant, 100], ends[variant, 1])
        for variant, n in ends
        if n == 1 and (variant, 100) in ends
    }


def _tls_section(tls: Mapping[str, Any]) -> list[str]:
    """3e: 1 and 100 secrets through a TLS relay, trusting botocore's default CA bundle."""
    rows = tls.get("rows", [])
    if not rows:
        return []
    out = ["", "### 3e. The same over TLS, trusting botocore's default CA bundle", ""]
    out += [
        (
            "AWS is reached over TLS. Here a relay on 127.0.0.1 (tests/support/tls.py, a "
            "thread per connection in the bench's own process) terminates TLS in front of "
            "bench/replay.py, and `AWS_CA_BUNDLE` is what botocore trusts when nothing is "
            f"configured (certifi's bundle) plus the relay's test CA: "
            f"{fmt(tls.get('certificates'))} certificates. `{STOCK_HTTP}` is the same binary "
            "sending through botocore's own urllib3 session, which loads that bundle again "
            "for every connection it opens; injector's (injector/backends/transport.py) loads "
            "it once a process."
        ),
        "",
    ]
    out += table(SCALING_HEADER, [_scaling_row(row, rows) for row in rows])
    factors = tls_factors(tls)
    ends = _tls_ends(tls)
    if (BINARY, 100) in ends and (STOCK_HTTP, 100) in ends:
        out += [
            "",
            (
                f"Over TLS 100 secrets take `{BINARY}` {fmt(ends[BINARY, 100])} ms "
                f"({fmt(factors.get(BINARY), 2)}x its one secret) against "
                f"{fmt(ends[STOCK_HTTP, 100])} ms with urllib3's session "
                f"({fmt(factors.get(STOCK_HTTP), 2)}x)."
            ),
        ]
    return out


def _tls_readme(tls: Mapping[str, Any]) -> list[str]:
    """Return the README's sentence on section 3e (none for older results)."""
    ends = _tls_ends(tls)
    if (BINARY, 100) not in ends or (STOCK_HTTP, 100) not in ends:
        return []
    factors = tls_factors(tls)
    return [
        "",
        (
            "Over TLS, trusting botocore's default CA bundle (section 3e): 100 secrets "
            f"{fmt(ends[BINARY, 100])} ms ({fmt(factors.get(BINARY), 2)}x one), against "
            f"{fmt(ends[STOCK_HTTP, 100])} ms ({fmt(factors.get(STOCK_HTTP), 2)}x) through "
            "botocore's urllib3 session (`INJECTOR_STOCK_HTTP=1`), which loads the bundle for "
            "every connection."
        ),
    ]


def _priority_sentence(priority: object) -> str:
    """Say at which priority bench/replay.py ran (older results do not say)."""
    if priority == "SCHED_FIFO":
        return (
            " It ran at real-time priority (SCHED_FIFO): each request was read when it "
            "arrived, not when the client let go of both cores; its own CPU (~0.25 ms a "
            "call) still came out of the client's."
        )
    if priority:
        return (
            f" It ran at priority `{priority}` (no real-time priority granted): while the "
            "client keeps both cores busy, requests may wait to be read, which adds to the "
            "latency."
        )
    return ""


def _saved_or_more(ms: float) -> str:
    return f"{fmt(ms)} ms saved" if ms >= 0 else f"{fmt(-ms)} ms more"


def _split_lines(rows: Sequence[Mapping[str, Any]], note: str = "") -> list[str]:
    """Say what the second process saves (injector/split.py): against one process."""
    ends = {(row["variant"], row["n"]): row["exec"]["median"] for row in rows}
    parts = [
        f"{n:,} secrets {fmt(ends[BINARY, n])} ms against {fmt(ends[ONE_PROCESS, n])} ms "
        f"({_saved_or_more(ends[ONE_PROCESS, n] - ends[BINARY, n])})"
        for n in sorted({n for _, n in ends})
        if (BINARY, n) in ends and (ONE_PROCESS, n) in ends and n >= SPLIT_SHOWN
    ]
    if not parts:
        return []
    return [
        "",
        (
            f"Two processes (injector/split.py, from 24 calls on 2 usable CPUs): `{BINARY}` "
            f"against the same binary with `INJECTOR_SINGLE_PROCESS=1`: "
            + "; ".join(parts)
            + (f"; {note}" if note else "")
            + "."
        ),
    ]


def _scaling_row(row: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    mix = row["mix"]
    base = next((r for r in rows if r["variant"] == row["variant"] and r["n"] == 1), None)
    factor = ratio(row["exec"]["median"], base["exec"]["median"]) if base else math.nan
    ops = ", ".join(f"{op} {count}" for op, count in sorted(row.get("operations", {}).items()))
    return [
        f"`{row['variant']}`",
        (f"{row['n']:,} ({mix['s3']}/{mix['ssm']}/{mix['secretsmanager']})"),
        fmt_stats(row["exec"]),
        fmt_stats(row.get("exit")),
        fmt(factor, 2),
        fmt_stats(row.get("cpu")),
        str(row["calls"]),
        str(row["calls_min"]),
        ops,
    ]


# --------------------------------------------------------------------------- README


def _arm64_section(arm64: Mapping[str, Any]) -> list[str]:
    """4b: the arm64 binary's size and its start-up under qemu-user-static."""
    out = ["", "## 4b. arm64 binary, under emulation", ""]
    if "rows" not in arm64:
        return [*out, str(arm64.get("note", "not measured"))]
    out += [
        (
            f"`dist/injector-linux-arm64`: {fmt(arm64['binary_bytes'] / 1e6, 2)} MB "
            f"({fmt(arm64['binary_bytes'])} bytes), `{arm64.get('version', '-')}`. **Emulated**: "
            "run on this x86-64 machine through qemu-user-static (binfmt_misc), interleaved with "
            f"the native binary, median (min-max) of {arm64.get('runs', '?')} runs, ms. qemu "
            "translates every instruction, so these figures say nothing about real arm64 "
            "hardware (Graviton); they only show the binary starts and delivers."
        ),
        "",
    ]
    out += table(
        ["case", "binary", "to exec", "to exit", "peak RSS MB"],
        [
            [
                r["case"],
                f"`{r['name']}`",
                fmt_stats(r["exec"]),
                fmt_stats(r["exit"]),
                fmt_stats(r["rss"], 1),
            ]
            for r in arm64["rows"]
        ],
    )
    return out


def tmpfs_lines(data: Data) -> list[str]:
    """Say what the launcher's extraction to TMPDIR costs: the binary with TMPDIR on tmpfs."""
    rows = data.get("one_secret", [])
    disk, ram = _row(rows, BINARY), _row(rows, TMPFS)
    if disk is None or ram is None:
        return []
    saved = disk["exec"]["median"] - ram["exec"]["median"]
    tmp_fs = data.get("machine", {}).get("/tmp file system", "disk")
    return [
        "",
        (
            f"`{TMPFS}`: the same binary with `TMPDIR` on /dev/shm. The launcher extracts "
            f"to `TMPDIR` at every start (section 4: MB written); here, with /tmp on "
            f"{tmp_fs}, that costs {fmt(saved)} ms of "
            f"the one S3 secret's {fmt(disk['exec']['median'])} "
            f"({fmt(exec_ratio(rows, TMPFS), 2)}x the boto3 script on tmpfs, "
            f"{fmt(exec_ratio(rows), 2)}x as measured). Docker mounts a container's /dev/shm "
            "noexec, so this is for hosts and for containers given an exec-able tmpfs "
            "(`--tmpfs /run/injector:exec` and `TMPDIR=/run/injector`)."
        ),
    ]


def render_readme(data: Data) -> str:
    """Render the README's performance block (the text between the markers)."""
    machine = data.get("machine", {})
    startup = {row["name"]: row for row in data.get("startup", [])}
    one = {row["name"]: row for row in data.get("one_secret", [])}
    names = list(dict.fromkeys([*startup, *one]))
    lines = [
        (
            f"Medians (min-max) in ms, start of the process to exec of the target, from "
            f"`make bench` on {machine.get('cpu', '?')} ({machine.get('nproc', '?')} cores), "
            f"{data.get('date', '?')}, commit `{str(data.get('commit', '?'))[:12]}`; every "
            "figure and the method are in [bench/results.md](bench/results.md)."
        ),
        "",
    ]
    one_rows = data.get("one_secret", [])
    lines += table(
        [
            "command",
            "no references",
            "one S3 secret (moto on loopback)",
            "x boto3 script",
            "CPU x boto3 script",
            "peak RSS MB",
        ],
        [
            [
                f"`{name}`",
                fmt_stats(startup.get(name, {}).get("exec")),
                fmt_stats(one.get(name, {}).get("exec")),
                fmt(exec_ratio(one_rows, name), 2) if name in one else "-",
                fmt(cpu_ratio(one_rows, name), 2) if name in one else "-",
                fmt(_max_rss(startup.get(name), one.get(name)), 1),
            ]
            for name in names
        ],
    )
    services = data.get("services", [])
    if services:
        lines += [
            "",
            (
                "One secret of each other service, `dist/injector` against an "
                "equivalent boto3 script in the same rounds:"
            ),
            "",
        ]
        lines += table(
            [
                "secret",
                "dist/injector",
                "boto3 script",
                "x boto3 script",
                "CPU x boto3 script",
                "x boto3, TMPDIR on tmpfs",
            ],
            [
                [
                    entry["what"],
                    fmt_stats((_row(entry["rows"], BINARY) or {}).get("exec")),
                    fmt_stats((_boto3(entry["rows"]) or {}).get("exec")),
                    fmt(exec_ratio(entry["rows"]), 2),
                    fmt(cpu_ratio(entry["rows"]), 2),
                    fmt(exec_ratio(entry["rows"], TMPFS), 2),
                ]
                for entry in services
            ],
        )
    lines += tmpfs_lines(data)
    checks = speed_checks(data)
    if checks:
        lines += [
            "",
            "Issue 15's targets: "
            + "; ".join(
                f"{c['what']} {fmt(c['value'], 2)} {c['unit']} (<= {fmt(c['limit'], 1)}: "
                f"{yes_no(c['ok'])})"
                for c in checks
            )
            + ".",
        ]
    rows = data.get("scaling", {}).get("rows", [])
    mine = [row for row in rows if row["variant"] == BINARY]
    if mine:
        verdict = scaling_verdict(rows)
        lines += ["", "`dist/injector` with 20 ms added to every AWS request:", ""]
        lines += table(
            ["secrets (S3/SSM/SM)", "to exec", "API calls (minimum)"],
            [
                [
                    f"{r['n']:,} ({r['mix']['s3']}/{r['mix']['ssm']}/{r['mix']['secretsmanager']})",
                    fmt_stats(r["exec"]),
                    f"{r['calls']} ({r['calls_min']})",
                ]
                for r in mine
            ],
        )
        lines += [
            "",
            (
                f"100 secrets take {fmt(verdict['factor'], 2)}x the time of one "
                f"(target <= {SCALING_FACTOR:g}x: {yes_no(verdict['time_ok'])}); API calls at "
                f"the batched minimum: {yes_no(verdict['calls_ok'])}."
            ),
        ]
        lines += _floor_lines(rows)
        replayed = data.get("replay", {}).get("rows", [])
        if replayed:
            lines += [
                "",
                (
                    "Against moto's answers replayed by one asyncio process (bench/replay.py: "
                    "~0.25 ms of its CPU a call on these cores, measured with schedstat), "
                    "100 secrets take "
                    f"{fmt(scaling_verdict(replayed)['factor'], 2)}x the time of one; curl's "
                    f"same calls {fmt(floor_share(replayed)['factor'], 2)}x."
                ),
            ]
            lines += _split_lines(replayed)
        lines += _tls_readme(data.get("tls", {}))
    size = data.get("size", {})
    containers = {row["name"]: row for row in data.get("container", [])}
    extra = []
    if size.get("binary_bytes"):
        extra.append(f"binary {fmt(size['binary_bytes'] / 1e6, 1)} MB")
    arm64 = data.get("arm64", {})
    if arm64.get("binary_bytes"):
        extra.append(
            f"arm64 binary {fmt(arm64['binary_bytes'] / 1e6, 1)} MB (start-up under "
            "emulation only: bench/results.md 4b)"
        )
    if containers:
        extra.append(
            "cold `docker run --rm` of busybox: "
            + ", ".join(
                f"{row.get('short', name)} {fmt(row['exit']['median'])} ms"
                for name, row in containers.items()
            )
        )
    if extra:
        text = "; ".join(extra)
        lines += ["", text[:1].upper() + text[1:] + "."]
    return "\n".join(lines)


def _path_load(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Render bench/path_load.py's rows: one SSM path against as many references."""
    if not rows:
        return []
    out = ["", "### 200 SSM parameters: one path vs 200 references, 20 ms per request", ""]
    out += table(
        ["variant", "form", "to exec", "API calls"],
        [
            [
                f"`{r['variant']}`",
                r["form"],
                fmt_stats(r["exec"]),
                f"{r['calls']} ({_operations(r['operations'])})",
            ]
            for r in rows
        ],
    )
    return [
        *out,
        "",
        (
            "Pages of a path follow one another (each needs the previous "
            "NextToken); references are batched in parallel."
        ),
    ]


def _max_rss(*rows: Mapping[str, Any] | None) -> float:
    values = [row["rss"]["max"] for row in rows if row and row.get("rss", {}).get("n")]
    return max(values) if values else math.nan


def splice(text: str, block: str) -> str:
    """Put *block* between the markers of *text*; add a Performance section if absent."""
    if START not in text or END not in text:
        body = text.rstrip("\n")
        return f"{body}\n\n{README_SECTION}\n\n{START}\n{block}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def _operations(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
