"""``injector scan`` options, outputs and engine errors, run in process on synthetic images."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import socketserver
import tarfile
import threading
from pathlib import Path

import pytest

from injector import cli
from injector.scan import engine, run
from injector.scan.errors import EngineUnavailableError, UsageError
from tests.support import runner
from tests.support import scan_images as si

pytestmark = pytest.mark.integration

TOKEN = si.github_token()
runner.EXTRA_SECRETS.add(TOKEN.encode())


def _image() -> si.Image:
    """Return an image with one visible token in a config-like file."""
    return si.Image([si.Layer({"/app/.env": f"GITHUB={TOKEN}\n".encode()})])


def _scan(*args: str) -> tuple[int, str]:
    """Run ``injector scan ARGS --no-cache`` in process; return (exit code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["injector", "scan", *args, "--no-cache"])
    return code, out.getvalue()


@pytest.fixture
def archive(tmp_path) -> str:
    """Return a legacy docker-archive: target holding the token."""
    return "docker-archive:" + str(si.write_legacy(_image(), tmp_path / "a.tar"))


@pytest.mark.parametrize(
    "args",
    [
        ["--max-file-size", "1M", "--jobs", "1"],
        ["--max-file-size", "64KiB", "--jobs", "3"],
        ["--max-file-size", "1GB"],
    ],
)
def test_size_and_jobs_options_are_accepted(archive, args) -> None:
    """--max-file-size takes K/M/G suffixes and --jobs a worker count; the finding stays."""
    code, out = _scan(archive, "--format", "json", *args)
    assert code == 1
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"github-token"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "many"], "--jobs needs a whole number"),
        (["--jobs", "0"], "--jobs must be between 1 and 64"),
        (["--jobs", "65"], "--jobs must be between 1 and 64"),
        (["--max-file-size", "2G"], "--max-file-size must be between"),
    ],
)
def test_bad_numbers_are_usage_errors(archive, args, message, capsys) -> None:
    """A bad --jobs or --max-file-size exits 64 with a one-line error."""
    code, _ = _scan(archive, *args)
    assert code == 64
    assert message in capsys.readouterr().err


def test_json_report_carries_the_policy_rows(archive, tmp_path) -> None:
    """With --policy, the JSON report has the verdict rows, ending with FINAL."""
    rules = tmp_path / "policy"
    rules.write_text("CATEGORY:TOKEN:WARN\n")
    code, out = _scan(archive, "--format", "json", "--policy", str(rules))
    rows = json.loads(out)["policy"]
    assert rows[-1] == {"gate": "FINAL", "trigger": "FINAL", "output": "", "action": "WARN"}
    assert code == 0


def test_policy_table_without_a_tag_names_the_target(tmp_path) -> None:
    """An image with no tag shows the target in the table's Repo Tag column."""
    root = si.write_oci_dir(_image(), tmp_path / "oci")
    index = json.loads((root / "index.json").read_text())
    for item in index["manifests"]:
        item.pop("annotations", None)
    (root / "index.json").write_text(json.dumps(index))
    rules = tmp_path / "policy"
    rules.write_text("SEVERITY:LOW:STOP\n")
    code, out = _scan(f"oci:{root}", "--policy", str(rules), "--fail-on", "critical")
    assert code == 1
    assert f"oci:{root}"[:20] in out
    assert "FINAL" in out


def test_output_file_and_unwritable_output(archive, tmp_path, capsys) -> None:
    """--output writes the report to a file; an unwritable one exits 64 naming it."""
    target = tmp_path / "report.json"
    code, out = _scan(archive, "--format", "json", "--output", str(target))
    assert code == 1
    assert out == ""
    assert json.loads(target.read_text())["findings"]
    assert TOKEN not in target.read_text()
    code, _ = _scan(archive, "--output", str(tmp_path / "missing" / "r.txt"))
    assert code == 64
    assert "cannot write --output" in capsys.readouterr().err


def test_text_report_of_a_clean_image(tmp_path) -> None:
    """A clean image's text report says no findings and exits 0."""
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "readme").write_text("nothing here\n")
    code, out = _scan(f"dir:{tmp_path / 'root'}")
    assert code == 0
    assert "0 findings (none); fail-on high" in out


def test_skopeo_style_oci_reference(tmp_path) -> None:
    """``oci:DIR:REF`` (skopeo) scans DIR; the reference is not needed to pick the image."""
    root = si.write_oci_dir(_image(), tmp_path / "oci")
    code, out = _scan(f"oci:{root}:latest", "--format", "json")
    assert code == 1
    assert json.loads(out)["findings"]


def test_config_changes_what_is_reported(archive, tmp_path) -> None:
    """--config disable removes a rule's findings (exit 0); a bad --config exits 78."""
    good = tmp_path / "ok.toml"
    good.write_text('disable = ["github-token"]\n')
    assert _scan(archive, "--config", str(good))[0] == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("disable = 3\n")
    assert _scan(archive, "--config", str(bad))[0] == 78


def test_open_store_refuses_a_dir_target() -> None:
    """open_store is never handed a dir: target (scan() walks those itself)."""
    with pytest.raises(UsageError, match="scan_tree"):
        run.open_store("dir:/", {}, None)  # type: ignore[arg-type]


def test_default_socket_and_non_unix_docker_host(monkeypatch, capsys) -> None:
    """No DOCKER_HOST means the default socket; a tcp:// DOCKER_HOST exits 69."""
    assert engine.socket_path({}) == engine.DEFAULT_SOCKET
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    code, _ = _scan("busybox:latest")
    assert code == 69
    assert "only unix:// sockets" in capsys.readouterr().err


class _Engine:
    """A Unix-socket HTTP server answering fixed (status, body) per path."""

    def __init__(self, path: Path, answers: dict[str, tuple[int, bytes]]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = answers.get(self.path, (404, b"{}"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def address_string(self) -> str:
                return "unix"

            def log_message(self, *args: object) -> None:
                del args

        self.path = str(path)
        self.server = socketserver.UnixStreamServer(self.path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(tmp_path):
    """Start an _Engine with the given answers; closed at the end of the test."""
    engines: list[_Engine] = []

    def start(answers: dict[str, tuple[int, bytes]]) -> str:
        engines.append(_Engine(tmp_path / f"e{len(engines)}.sock", answers))
        return engines[-1].path

    yield start
    for item in engines:
        item.close()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((500, b"{}"), "answered 500"),
        ((200, b"not json"), "unreadable image description"),
        ((200, b"[1, 2]"), "unreadable image description"),
    ],
)
def test_engine_errors_are_unavailable(served, answer, message) -> None:
    """An engine answering an error or an unreadable description is 69, never a traceback."""
    path = served({"/images/app/json": answer})
    with pytest.raises(EngineUnavailableError, match=message):
        engine.inspect(path, "app")


def test_skip_layers_of_an_engine_image(served, archive, monkeypatch) -> None:
    """--skip-layers-of NAME takes the layers from the engine's RootFS and skips them."""
    tar = Path(archive.removeprefix("docker-archive:")).read_bytes()
    diff_id = si.digest(_image().tars()[0])
    described = json.dumps({"Id": "sha256:" + "ab" * 32, "RootFS": {"Layers": [diff_id]}})
    path = served({"/images/base/json": (200, described.encode()), "/images/base/get": (200, tar)})
    assert run.diff_ids_of("base", {"DOCKER_HOST": f"unix://{path}"}) == {diff_id}
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    code, out = _scan(archive, "--format", "json", "--skip-layers-of", "base")
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_layer_not_matching_its_diff_id_is_65(tmp_path, capsys) -> None:
    """A layer whose content differs from the config's diff_id exits 65 naming the layer."""
    good = si.write_legacy(_image(), tmp_path / "a.tar")
    bad = tmp_path / "b.tar"
    with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
        for member in src:
            data = src.extractfile(member).read() if member.isreg() else b""  # type: ignore[union-attr]
            if b'"diff_ids"' in data:
                document = json.loads(data)
                document["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
                data = json.dumps(document).encode()
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    code, _ = _scan(f"docker-archive:{bad}", "--jobs", "1")
    assert code == 65
    assert "layer.tar: content does not match diff_id" in capsys.readouterr().err


def test_known_from_without_a_reference_is_78(tmp_path, capsys) -> None:
    """A --known-from file naming no reference is a configuration error (78), no value shown."""
    (tmp_path / "root").mkdir()
    known = tmp_path / "known.env"
    known.write_text("PLAIN=notareference\n")
    code, _ = _scan(f"dir:{tmp_path / 'root'}", "--known-from", str(known))
    err = capsys.readouterr().err
    assert code == 78
    assert "names no reference" in err
    assert "notareference" not in err
