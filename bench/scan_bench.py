"""Figures for ``injector scan`` -> bench/scan.md (issue 17).

    .venv/bin/python bench/scan_bench.py [--binary dist/injector] [--out bench/scan.md]

- MB/s and wall time on the clean busybox, Alpine and Debian test images (``docker save``
  archives), cold (empty cache) and cached, and peak RSS (``/usr/bin/time``);
- recall per location kind on the synthetic planted corpus (every archive format);
- findings on the clean bases, by severity and rule (the false-positive list);
- bc-detect-secrets' own scanner on the same inputs (its CLI on extracted layers; this
  bench alone writes layers to a temporary directory).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASES = ("busybox", "alpine", "debian")
DISTRO_EXAMPLES = ("/etc/ssl/openssl.cnf", "/usr/lib/ssl/openssl.cnf")  # rules.DISTRO_EXAMPLES


def command(binary: str | None) -> list[str]:
    """Return the argv prefix that runs injector."""
    if binary:
        return [binary]
    return [sys.executable, "-m", "injector"]


def timed(
    argv: list[str], env: dict[str, str]
) -> tuple[float, int, subprocess.CompletedProcess[bytes]]:
    """Run *argv* under /usr/bin/time; return (seconds, peak RSS KiB, process)."""
    with tempfile.NamedTemporaryFile() as out:
        started = time.monotonic()
        done = subprocess.run(
            ["/usr/bin/time", "-o", out.name, "-f", "%M", *argv],
            env=env,
            capture_output=True,
            check=False,
        )
        wall = time.monotonic() - started
        rss = int(Path(out.name).read_text().split()[-1])
    return wall, rss, done


def layer_bytes(document: dict) -> int:
    """Return the uncompressed bytes of all layers."""
    return sum(layer["bytes"] for layer in document["layers"])


def bases(prefix: list[str], work: Path) -> list[dict]:
    """Cold and cached scans of each clean base."""
    rows = []
    for kind in BASES:
        image = f"injector-test/{kind}"
        archive = work / f"{kind}.tar"
        subprocess.run(["docker", "save", "-o", str(archive), image], check=True)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / f"cache-{kind}"), "PYTHONPATH": str(ROOT)}
        argv = [*prefix, "scan", f"docker-archive:{archive}", "--format", "json"]
        single = timed([*argv, "--jobs", "1", "--no-cache"], env)
        cold = timed(argv, env)
        cached = timed(argv, env)
        document = json.loads(cold[2].stdout)
        rows.append(
            {
                "kind": kind,
                "bytes": layer_bytes(document),
                "layers": len(document["layers"]),
                "single": single[:2],
                "cold": cold[:2],
                "cached": cached[:2],
                "findings": document["findings"],
                "archive": archive,
            }
        )
    return rows


def recall() -> list[tuple[str, int, int]]:
    """Recall per location kind over every synthetic archive format."""
    from injector import cli  # noqa: PLC0415 - after sys.path is set
    from tests.integration import test_scan_archives as corpus  # noqa: PLC0415

    rows = []
    for kind, (image, expected) in sorted(corpus.KINDS.items()):
        found = total = 0
        for fmt in corpus.FORMATS:
            with tempfile.TemporaryDirectory() as tmp:
                target = corpus.write(image, fmt, Path(tmp))
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    cli.main(["injector", "scan", target, "--format", "json", "--no-cache"])
                got = corpus.planted(json.loads(out.getvalue())["findings"])
            found += len(expected & got)
            total += len(expected)
        rows.append((kind, found, total))
    return rows


def extract_layers(archive: Path, dest: Path) -> None:
    """Extract the regular files of every layer into dest/<n>/ (bench only; no links)."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for index, name in enumerate(manifest[0]["Layers"]):
            with tarfile.open(fileobj=outer.extractfile(name)) as layer:
                for member in layer:
                    if not member.isreg():
                        continue
                    clean = os.path.normpath("/" + member.name).lstrip("/")
                    target = dest / str(index) / clean
                    with contextlib.suppress(OSError):
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(layer.extractfile(member).read())


def detect_secrets_run(directory: Path) -> tuple[float, int]:
    """Run bc-detect-secrets' CLI over a directory; return (seconds, results)."""
    exe = Path(sys.executable).with_name("detect-secrets")
    started = time.monotonic()
    done = subprocess.run(
        [str(exe), "scan", "--all-files", str(directory)],
        capture_output=True,
        check=False,
        cwd=directory,
    )
    wall = time.monotonic() - started
    results = json.loads(done.stdout or b"{}").get("results", {})
    return wall, sum(len(v) for v in results.values())


def detect_secrets_recall() -> tuple[int, int]:
    """How many planted kinds bc-detect-secrets' scanner reports anything for (layers only)."""
    from tests.integration import test_scan_archives as corpus  # noqa: PLC0415
    from tests.support import scan_images as si  # noqa: PLC0415

    hit = 0
    for image, expected in corpus.KINDS.values():
        if not expected:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            archive = si.write_legacy(image, Path(tmp) / "a.tar")
            extract_layers(archive, Path(tmp) / "x")
            _, count = detect_secrets_run(Path(tmp) / "x")
        hit += count > 0
    return hit, sum(1 for _, e in corpus.KINDS.values() if e)


def report(
    binary: str | None,
    rows: list[dict],
    recalls: list[tuple[str, int, int]],
    side: list[tuple],
    ds_recall: tuple[int, int],
) -> str:
    """Render bench/scan.md."""
    out = [
        "# `injector scan` figures",
        "",
        (
            f"Measured {time.strftime('%Y-%m-%d')} by `bench/scan_bench.py` (binary: "
            f"{binary or 'python -m injector'}) on this project's 2-core machine, shared with "
            "other work (noisy); compare within a table, not across days."
        ),
        "",
        "## Speed on the clean bases (`docker save` archives)",
        "",
        (
            "| image | layers | layer bytes | --jobs 1 s | cold s | cold MB/s | cached s "
            "| peak RSS cold | peak RSS cached |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mb = r["bytes"] / 1e6
        out.append(
            f"| {r['kind']} | {r['layers']} | {mb:.1f} MB | {r['single'][0]:.2f} | "
            f"{r['cold'][0]:.2f} | {mb / r['cold'][0]:.1f} | "
            f"{r['cached'][0]:.2f} | {r['cold'][1] / 1024:.0f} MiB | "
            f"{r['cached'][1] / 1024:.0f} MiB |"
        )
    out += [
        "",
        "## Recall per location kind (synthetic corpus, every archive format)",
        "",
        "| kind | found | planted | recall |",
        "|---|---|---|---|",
    ]
    for kind, found, total in recalls:
        share = f"{100 * found / total:.0f}%" if total else "n/a (negative control)"
        out.append(f"| {kind} | {found} | {total} | {share} |")
    out += [
        "",
        "## Findings on the clean bases",
        "",
        "Every finding except `info`, at any severity. One exclusion is built in and justified "
        "here: the name=literal rule is not applied to "
        + ", ".join(f"`{p}`" for p in sorted(DISTRO_EXAMPLES))
        + ", which Alpine and Debian ship with OpenSSL's example `secret = pass:insta` "
        "(the demo CA of its CMP section); every other rule still runs on those files.",
        "",
        "| image | severity | rule | path |",
        "|---|---|---|---|",
    ]
    for r in rows:
        listed = [f for f in r["findings"] if f["severity"] != "info"]
        out += [f"| {r['kind']} | {f['severity']} | {f['rule']} | {f['path']} |" for f in listed]
        if not listed:
            out.append(f"| {r['kind']} | - | none | - |")
    out += [
        "",
        "## bc-detect-secrets' own scanner, side by side",
        "",
        (
            "| input | injector scan s | detect-secrets s | injector findings "
            "| detect-secrets results |"
        ),
        "|---|---|---|---|---|",
    ]
    out += [f"| {a} | {b:.2f} | {c:.2f} | {d} | {e} |" for a, b, c, d, e in side]
    out += [
        "",
        (
            f"Planted kinds for which detect-secrets reports anything (layers extracted, "
            f"config invisible to it): {ds_recall[0]} of {ds_recall[1]}."
        ),
        "",
    ]
    return "\n".join(out)


def main() -> None:
    """Run every measurement and write the report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary")
    parser.add_argument("--out", default=str(ROOT / "bench" / "scan.md"))
    parser.add_argument("--side-by-side", default="busybox,alpine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = bases(command(args.binary), work)
        side = []
        for r in rows:
            if r["kind"] in args.side_by_side.split(","):
                extract_layers(r["archive"], work / f"x-{r['kind']}")
                wall, count = detect_secrets_run(work / f"x-{r['kind']}")
                side.append((r["kind"], r["cold"][0], wall, len(r["findings"]), count))
        text = report(args.binary, rows, recall(), side, detect_secrets_recall())
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
