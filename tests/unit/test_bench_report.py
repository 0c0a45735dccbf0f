"""bench/report.py renders results.md and the README block from numbers alone."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_report", Path(__file__).resolve().parents[2] / "bench" / "report.py"
)
assert SPEC is not None
assert SPEC.loader is not None
report = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(report)


def _s(median: float) -> dict[str, float]:
    return {"median": median, "min": median - 1, "max": median + 1, "n": 10}


def _proc(name: str, exec_ms: float, rss: float = 40.0) -> dict:
    return {"name": name, "exec": _s(exec_ms), "exit": _s(exec_ms + 50), "rss": _s(rss)}


def _scaling(variant: str, n: int, ms: float, calls: int | None = None) -> dict:
    mix = report.mix_for(n)
    minimum = report.minimum_calls(mix)
    return {
        "variant": variant,
        "n": n,
        "mix": mix,
        "exec": _s(ms),
        "exit": _s(ms + 60),
        "calls": minimum if calls is None else calls,
        "calls_min": minimum,
        "operations": {"GetObject": mix["s3"]},
    }


def fake_data(hundred_ms: float = 900.0, calls_100: int | None = None) -> dict:
    """Return a whole results dict with made-up numbers."""
    rows = [
        _scaling("dist/injector", 1, 500.0),
        _scaling("dist/injector", 100, hundred_ms, calls_100),
    ]
    return {
        "date": "2026-11-23 10:00 UTC",
        "commit": "0123456789abcdef",
        "runs": 12,
        "machine": {"nproc": 2, "cpu": "Fake CPU", "memory": "8 GiB", "kernel": "6.1"},
        "load": {"start": [0.5, 0.6, 0.7]},
        "notes": ["a note"],
        "startup": [_proc("dist/injector", 150.0), _proc("direct exec", 1.0, 2.0)],
        "one_secret": [_proc("dist/injector", 420.0, 70.0), _proc("python -m injector", 300)],
        "scaling": {
            "latency_ms": 20,
            "rows": rows,
            "analysis": ["because"],
            "timeline": [
                {
                    "n": 1,
                    "resolve_ms": 200.0,
                    "s3_create_ms": 90.0,
                    "s3_create_start": 1.0,
                    "call_n": 1,
                    "http_mean": 25.0,
                    "http_max": 25.0,
                    "http_last_end": 190.0,
                }
            ],
        },
        "size": {"binary_bytes": 12_500_000, "sha256": "ab" * 32, "build": "60 s"},
        "container": [{"name": "plain", "exit": _s(400.0)}],
        "profile": {
            "imports": [{"name": "botocore", "cumulative_ms": 120.0, "self_ms": 3.0}],
            "import_total_ms": 200.0,
            "phases": [{"name": "total to exec", "none": 150.0, "s3": 420.0}],
        },
    }


def test_stats_and_minimum_calls() -> None:
    """Medians, the round-robin mix and the batched minimum."""
    assert report.stats([3, 1, 2]) == {"median": 2, "min": 1, "max": 3, "n": 3}
    assert math.isnan(report.stats([])["median"])
    assert report.mix_for(100) == {"s3": 34, "ssm": 33, "secretsmanager": 33}
    assert report.mix_for(1) == {"s3": 1, "ssm": 0, "secretsmanager": 0}
    assert report.minimum_calls(report.mix_for(100)) == 34 + 4 + 2
    assert report.minimum_calls(report.mix_for(1000)) == 334 + 34 + 17


def test_scaling_verdict() -> None:
    """2x of one secret and the call count decide the target."""
    ok = report.scaling_verdict(fake_data(900.0)["scaling"]["rows"])
    assert ok["time_ok"]
    assert ok["calls_ok"]
    assert ok["factor"] == 1.8
    slow = report.scaling_verdict(fake_data(1100.0, calls_100=41)["scaling"]["rows"])
    assert not slow["time_ok"]
    assert not slow["calls_ok"]
    assert not report.scaling_verdict([])["time_ok"]


def test_budget_checks() -> None:
    """Issue 3's limits are compared with the binary's figures."""
    checks = {c["what"].split(",")[0]: c["ok"] for c in report.budget_checks(fake_data())}
    assert checks == {
        "no references": True,
        "one S3 secret": False,
        "peak RSS (max over runs": False,
        "binary size": True,
    }


def test_render_results_has_every_section() -> None:
    """results.md carries every section and formats medians with min-max."""
    text = report.render_results(fake_data())
    for heading in (
        "## Machine",
        "## 1.",
        "## 2.",
        "## 3.",
        "## 4.",
        "## 5.",
        "## Where start-up time goes",
    ):
        assert heading in text
    assert "| `dist/injector` | **150** (149-151) | **200** (199-201) |" in text
    assert "Fake CPU" in text
    assert "0.50 / 0.60 / 0.70" in text
    assert "1.80x the time of 1" in text
    assert "12.50 MB" in text
    assert "- because" in text
    assert "at 1 +90" in text


def test_render_readme_and_splice() -> None:
    """The README block goes between the markers, added once, replaced later."""
    block = report.render_readme(fake_data(1100.0))
    assert "| `dist/injector` | **150** (149-151) | **420** (419-421) | - | - | 71.0 |" in block
    assert "2.20x the time of one" in block
    assert "**NO**" in block
    readme = "# injector\n\ntext\n"
    once = report.splice(readme, block)
    assert once.startswith(readme.rstrip("\n"))
    assert f"## Performance\n\n{report.START}\n{block}\n{report.END}\n" in once
    twice = report.splice(once + "\n## After\n", "new")
    assert block not in twice
    assert f"{report.START}\nnew\n{report.END}" in twice
    assert twice.endswith("\n## After\n")
    assert twice.count("## Performance") == 1


def test_speed_checks_and_ratio_columns() -> None:
    """Issue 15's targets: ratios to the boto3 scripts in the same table, and the item line."""
    data = fake_data(hundred_ms=500.0)
    data["one_secret"].append(_proc("boto3 script (bench/boto3_fetch.py)", 600.0))
    data["services"] = [
        {
            "service": "ssm",
            "what": "one SSM SecureString",
            "rows": [
                _proc("dist/injector", 400.0),
                _proc("boto3 script (bench/boto3_ssm.py)", 400.0),
            ],
        }
    ]
    data["items"] = {
        "stock": _s(300.0),
        "gc paused": _s(295.0),
        "docs stub": _s(285.0),
        "docs + http2 stubs": _s(280.0),
        "stubs + trimmed models": _s(200.0),
    }
    data["items"]["stock"]["instructions"] = 1000e6
    data["items"]["gc paused"]["instructions"] = 900e6
    checks = {c["what"]: c for c in report.speed_checks(data)}
    assert checks["one S3 secret, x of bench/boto3_fetch.py"]["value"] == 0.7
    assert checks["one S3 secret, x of bench/boto3_fetch.py"]["ok"]
    assert not checks["one SSM SecureString, x of its boto3 script"]["ok"]
    assert "| **420** (419-421) | 0.70 |" in report.render_results(data)
    assert "0.70" in report.render_readme(data)
    line = report.items_line(data)
    assert "stub 10 ms" in line
    assert "then gc.freeze() 5 ms (100 M instructions, 10.0%)" in line
    assert "in all 100 of 300 ms" in line


def test_build_steps_table() -> None:
    """2c: each build step against the boto3 script and the step before it, and the line."""
    data = fake_data()
    assert "### 2c." not in report.render_results(data)
    data["steps"] = {
        "rows": [
            {**_proc("stock", 300.0), "none": _s(120.0)},
            {**_proc("side-loaded PKG", 270.0), "none": _s(100.0)},
            {**_proc(report.LAST_STEP, 276.0), "none": _s(101.0)},
        ],
        "boto3": _proc("boto3 script (bench/boto3_fetch.py)", 400.0),
    }
    text = report.render_results(data)
    assert "### 2c. Build changes of issue 15, one at a time" in text
    assert "| step | to exec | x boto3 script | saved vs previous | no references |" in text
    assert "| stock | **300** (299-301) | 0.75 | - | **120** (119-121) |" in text
    assert "| side-loaded PKG | **270** (269-271) | 0.68 | 30 ms (10%) | **100** (99-101) |" in text
    assert "| dist/injector (all of the above) | **276** (275-277) | 0.69 | -6 ms (-2%) |" in text
    assert "| `boto3 script (bench/boto3_fetch.py)` | **400** (399-401) | 1.00 | - | - |" in text
    assert (
        "in the same rounds): side-loaded PKG: 30 ms (10%); dist/injector (all of the above): "
        "-6 ms (-2%); in all 24 ms (8%) of stock's 300 ms." in text
    )
    data["steps"]["rows"] = data["steps"]["rows"][:1]
    assert "**Saved by each build change**" not in report.render_results(data)


def test_server_floor_rows() -> None:
    """The curl floor: its own 100-of-1 factor, what it adds, and what 1.3x leaves injector."""
    data = fake_data(hundred_ms=700.0)
    rows = data["scaling"]["rows"]
    assert report.floor_share(rows)["factor"] != report.floor_share(rows)["factor"]  # NaN
    rows += [_scaling(report.FLOOR, 1, 30.0), _scaling(report.FLOOR, 100, 230.0)]
    share = report.floor_share(rows)
    assert share == pytest.approx({"factor": 230.0 / 30.0, "added_ms": 200.0, "budget_ms": 150.0})
    checks = {c["what"]: c for c in report.speed_checks(data)}
    floor = checks["the same calls from curl (server floor, bench/floor.py), x of its one call"]
    assert not floor["ok"]
    results = report.render_results(data)
    assert "take 7.67x the time of one call and add 200 ms to it" in results
    assert "leaves 150 ms" in results
    assert f"Target for `{report.FLOOR}`" not in results
    assert "add 200 ms" in report.render_readme(data)


def test_replay_section_and_target_row() -> None:
    """3a: the replayed table, its own 1.3x verdict and floor line, a target row, the README."""
    data = fake_data()
    assert "### 3a." not in report.render_results(data)
    data["replay"] = {
        "latency_ms": 20.0,
        "recorded": 42,
        "rows": [
            _scaling("dist/injector", 1, 250.0),
            _scaling("dist/injector", 100, 320.0),
            _scaling(report.FLOOR, 1, 30.0),
            _scaling(report.FLOOR, 100, 80.0),
        ],
    }
    results = report.render_results(data)
    assert "### 3a. The same against replayed answers" in results
    assert "(42 answers recorded in the warm-up round), 20 ms late" in results
    assert "100 secrets take 1.28x the time of 1 (issue 15: <= 1.3x: yes)" in results
    assert "sent by curl to the replaying server, take 2.67x" in results
    checks = {c["what"]: c for c in report.speed_checks(data)}
    row = checks[
        "100 mixed secrets, moto's answers replayed (bench/replay.py, section 3a), x of one"
    ]
    assert row["ok"]
    assert "100 secrets take 1.28x the time of one; curl's same calls 2.67x" in (
        report.render_readme(data)
    )


def test_timeline_cpu_table() -> None:
    """The timeline's CPU: the calls' parts, what botocore does besides, and what lies outside."""
    data = fake_data()
    assert "CPU time of the same runs" not in report.render_results(data)
    data["scaling"]["timeline"][0].update(
        {
            "resolve_cpu": 120.0,
            "get_cpu": 30.0,
            "call_cpu": 80.0,
            "call_n": 40,
            "http_cpu": 30.0,
            "parse_cpu": 10.0,
            "sign_cpu": 8.0,
            "useragent_cpu": 4.0,
        }
    )
    results = report.render_results(data)
    assert "CPU time of the same runs" in results
    assert "| 1 | 120 | 30 | 80 (2.00) | 30 | 10 | 8 | 4 | 28 | 10 |" in results


def test_tmpfs_row_and_sentence() -> None:
    """The binary with TMPDIR on tmpfs: a README sentence with what the extraction costs."""
    data = fake_data()
    assert report.tmpfs_lines(data) == []
    data["machine"]["/tmp file system"] = "ext2/ext3"
    data["one_secret"] += [
        _proc(report.TMPFS, 360.0),
        _proc("boto3 script (bench/boto3_fetch.py)", 500.0),
    ]
    (_, sentence) = report.tmpfs_lines(data)
    assert "with /tmp on ext2/ext3, that costs 60 ms of the one S3 secret's 420" in sentence
    assert "(0.72x the boto3 script on tmpfs, 0.84x as measured)" in sentence
    readme = report.render_readme(data)
    assert sentence in readme
    assert f"| `{report.TMPFS}` | - | **360** (359-361) | 0.72 |" in readme


def test_split_lines_compare_two_processes_with_one() -> None:
    """From 100 secrets on, dist/injector is set against INJECTOR_SINGLE_PROCESS=1."""
    rows = [
        {"variant": report.BINARY, "n": 100, "exec": {"median": 150.0}},
        {"variant": report.ONE_PROCESS, "n": 100, "exec": {"median": 170.0}},
        {"variant": report.BINARY, "n": 10, "exec": {"median": 120.0}},
        {"variant": report.ONE_PROCESS, "n": 10, "exec": {"median": 121.0}},
    ]
    (line,) = [text for text in report._split_lines(rows) if text]
    assert "100 secrets 150 ms against 170 ms (20 ms saved)" in line
    assert "10 secrets" not in line.replace("100 secrets", "")
    assert report._split_lines(rows[2:]) == []
    rows[0]["exec"]["median"] = 175.0
    assert "(5 ms more)" in report._split_lines(rows)[1]


def test_tls_section_sets_the_stock_session_against_injectors() -> None:
    """3e: the TLS table, each variant's 100/1 factor, and the README sentence (needs a replay)."""
    data = fake_data()
    assert "### 3e." not in report.render_results(data)
    data["replay"] = {"rows": [_scaling("dist/injector", 1, 250.0)]}
    data["tls"] = {
        "certificates": 147,
        "rows": [
            _scaling("dist/injector", 1, 200.0),
            _scaling(report.STOCK_HTTP, 1, 210.0),
            _scaling("dist/injector", 100, 320.0),
            _scaling(report.STOCK_HTTP, 100, 740.0),
        ],
    }
    assert report.tls_factors(data["tls"]) == pytest.approx(
        {"dist/injector": 1.6, report.STOCK_HTTP: 740 / 210}
    )
    results = report.render_results(data)
    assert "### 3e. The same over TLS, trusting botocore's default CA bundle" in results
    assert "plus the relay's test CA: 147 certificates" in results
    assert "100 secrets take `dist/injector` 320 ms (1.60x its one secret) against 740 ms" in (
        results
    )
    assert "(section 3e): 100 secrets 320 ms (1.60x one), against 740 ms (3.52x)" in (
        report.render_readme(data)
    )
