"""``injector scan`` on synthetic archives: each location kind and format, exactly the plant."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from injector import cli
from tests.support import runner
from tests.support import scan_images as si

pytestmark = pytest.mark.integration

FORMATS = ("legacy", "docker25", "docker25-nested-zstd", "oci-dir-nested", "oci-archive-zstd")


def write(image, fmt, tmp_path):
    """Write *image* in format *fmt* and return the scan target."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if fmt == "legacy":
        return "docker-archive:" + str(si.write_legacy(image, tmp_path / "a.tar"))
    if fmt == "docker25":
        return "docker-archive:" + str(si.write_docker25(image, tmp_path / "a.tar"))
    if fmt == "docker25-nested-zstd":
        return "docker-archive:" + str(si.write_docker25(image, tmp_path / "a.tar", "zstd", True))
    if fmt == "oci-dir-nested":
        return "oci:" + str(si.write_oci_dir(image, tmp_path / "oci", "gzip", nested=True))
    return "oci-archive:" + str(si.write_oci_archive(image, tmp_path / "a.tar", "zstd"))


def scan(*args):
    """Run ``injector scan ARGS --format json`` in process; return (exit code, document)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["injector", "scan", *args, "--format", "json", "--no-cache"])
    return code, json.loads(out.getvalue())


def planted(findings):
    """Reduce findings to (rule, source, path, layer_index, deleted_in_layer), each once."""
    items = [
        (f["rule"], f["source"], f["path"], f["layer_index"], f["deleted_in_layer"])
        for f in findings
    ]
    assert len(items) == len(set(items)), f"duplicate findings: {items}"
    return set(items)


KUBE = "users:\n- user:\n    client-key-data: {}\n"


def corpus():
    """One image per location kind, with the set of findings it must produce (values fresh)."""
    pem, key_id, secret = si.private_key_pem(), si.aws_key_id(), si.aws_secret()
    token, label_token, arg_token, pw = (
        si.github_token(),
        si.github_token(),
        si.github_token(),
        si.password(),
    )
    nested = si.nested_tar_gz(
        {"/home/app/.git-credentials": f"https://bob:{pw}@git.test\n".encode()}
    )
    kinds = {
        "visible-file": (
            si.Image(
                [
                    si.Layer(
                        {
                            "/app/config.env": f"AWS_ACCESS_KEY_ID={key_id}\n"
                            f"AWS_SECRET_ACCESS_KEY={secret}\n".encode()
                        }
                    )
                ]
            ),
            {
                ("aws-access-key", "layer", "/app/config.env", 0, None),
                ("aws-secret-key", "layer", "/app/config.env", 0, None),
            },
        ),
        "deleted-next-layer": (
            si.Image(
                [
                    si.Layer({"/root/.ssh/id_rsa": pem.encode()}),
                    si.Layer(whiteouts=["/root/.ssh/id_rsa"]),
                ]
            ),
            {
                ("ssh-private-key-file", "layer", "/root/.ssh/id_rsa", 0, 1),
                ("private-key", "layer", "/root/.ssh/id_rsa", 0, 1),
            },
        ),
        "opaque-dir": (
            si.Image(
                [
                    si.Layer({"/srv/conf/token.json": json.dumps({"token": token}).encode()}),
                    si.Layer({"/srv/conf/readme.txt": b"hello\n"}, opaque=["/srv/conf"]),
                ]
            ),
            {("github-token", "layer", "/srv/conf/token.json", 0, 1)},
        ),
        "env-literal": (
            si.Image([si.Layer({"/a": b"x"})], env=["PATH=/bin", f"DB_PASSWORD={pw}"]),
            {("secret-name-literal", "config-env", "DB_PASSWORD", None, None)},
        ),
        "label-token": (
            si.Image([si.Layer({"/a": b"x"})], labels={"deploy.token": label_token}),
            {("github-token", "config-label", "deploy.token", None, None)},
        ),
        "build-arg": (
            si.Image(
                [si.Layer({"/a": b"x"})],
                history=[{"created_by": f"|1 GH_TOKEN={arg_token} /bin/sh -c make"}],
            ),
            {("github-token", "history", "build-arg/GH_TOKEN", 0, None)},
        ),
        "nested-archive": (
            si.Image([si.Layer({"/opt/backup.tar.gz": nested})]),
            {
                (
                    "url-credentials",
                    "layer",
                    "/opt/backup.tar.gz!/home/app/.git-credentials",
                    0,
                    None,
                ),
                (
                    "credentials-file",
                    "layer",
                    "/opt/backup.tar.gz!/home/app/.git-credentials",
                    0,
                    None,
                ),
            },
        ),
        "base64-pem-yaml": (
            si.Image([si.Layer({"/etc/app/kube.yaml": KUBE.format(si.b64(pem)).encode()})]),
            {("base64-private-key", "layer", "/etc/app/kube.yaml", 0, None)},
        ),
        "reference-env": (
            si.Image([si.Layer({"/a": b"x"})], env=["DB_PASSWORD=ref+awsssm://prod/db"]),
            {("uses-reference", "config-env", "DB_PASSWORD", None, None)},
        ),
        "secret-mount-build": (
            si.Image(
                [si.Layer({"/a": b"x"})],
                history=[
                    {"created_by": "RUN /bin/sh -c cat /run/secrets/token >/dev/null # buildkit"}
                ],
            ),
            set(),
        ),
    }
    values = [pem, key_id, secret, token, label_token, arg_token, pw]
    return kinds, values


KINDS, VALUES = corpus()
runner.EXTRA_SECRETS.update(v.encode() for v in VALUES)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_planted_set_exactly(kind, fmt, tmp_path) -> None:
    """Each planted image yields exactly its manifest's findings, in every archive format."""
    image, expected = KINDS[kind]
    code, document = scan(write(image, fmt, tmp_path))
    assert planted(document["findings"]) == expected
    high = any(f["severity"] in {"high", "critical"} for f in document["findings"])
    assert code == (1 if high else 0)
    text = json.dumps(document)
    assert not [v for v in VALUES if v in text or v.replace("\n", "\\n") in text]


def test_dir_target_and_visible_flags(tmp_path) -> None:
    """``dir:PATH`` scans a root file system as one layer; everything is visible."""
    (tmp_path / "root" / "app").mkdir(parents=True)
    (tmp_path / "root" / "app" / ".npmrc").write_text(f"//registry.test/:_authToken={VALUES[1]}x\n")
    code, document = scan("dir:" + str(tmp_path / "root"))
    rules = {f["rule"] for f in document["findings"]}
    assert "npmrc-auth-token" in rules
    assert all(f["visible_in_final"] for f in document["findings"])
    assert code == 1


def test_hardlink_keeps_deleted_content_visible(tmp_path) -> None:
    """A hard link that survives keeps a whited-out file's content visible."""
    layer0 = si.Layer(
        {"/root/.ssh/id_rsa": VALUES[0].encode()}, links={"/srv/copy": "/root/.ssh/id_rsa"}
    )
    image = si.Image([layer0, si.Layer(whiteouts=["/root/.ssh/id_rsa"])])
    _, document = scan(write(image, "legacy", tmp_path))
    key = next(f for f in document["findings"] if f["rule"] == "private-key")
    assert key["visible_in_final"] is True
    assert key["deleted_in_layer"] is None


def test_sarif_shape(tmp_path) -> None:
    """SARIF 2.1.0 with rules, levels, layer/<n>/<path> and image-config URIs, fingerprints."""
    image, _ = KINDS["deleted-next-layer"]
    target = write(image, "docker25", tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.main(["injector", "scan", target, "--format", "sarif", "--no-cache"])
    log = json.loads(out.getvalue())
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert {"private-key", "ssh-private-key-file"} <= ids
    assert uris == {"layer/0/root/.ssh/id_rsa"}
    assert all(r["partialFingerprints"]["injectorScan/v1"] for r in run["results"])
    assert all(r["level"] == "error" for r in run["results"])


def test_baseline_round_trip(tmp_path) -> None:
    """--write-baseline stores fingerprints only; --baseline then suppresses them (exit 0)."""
    image, _ = KINDS["visible-file"]
    target = write(image, "legacy", tmp_path)
    base = tmp_path / "baseline.json"
    code, _ = scan(target, "--write-baseline", str(base))
    assert code == 1
    text = base.read_text()
    assert not [v for v in VALUES if v in text]
    code, document = scan(target, "--baseline", str(base))
    assert code == 0
    assert document["findings"] == []
    assert document["suppressed_by_baseline"] == 2


def test_policy_seed_line_and_final(tmp_path, capsys) -> None:
    """The seed's FILECHECK line works as written, prints the table with FINAL STOP, exits 1."""
    image, _ = KINDS["deleted-next-layer"]
    target = write(image, "legacy", tmp_path)
    policy = tmp_path / "policy"
    policy.write_text(
        "FILECHECK:FILENAMEMATCH:STOP:FILECHECK_NAMEREGEXP=.*/.ssh/id_rsa$\n"
        "FILECHECK:CONTENTMATCH:WARN:FILECHECK_CONTENTREGEXP=RSA PRIVATE\n"
    )
    code = cli.main(["injector", "scan", target, "--policy", str(policy), "--no-cache"])
    out = capsys.readouterr().out
    assert code == 1
    header = next(line for line in out.splitlines() if "Image Id" in line)
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells == ["Image Id", "Repo Tag", "Gate", "Trigger", "Check Output", "Gate Action"]
    assert "FILENAMEMATCH" in out
    assert "CONTENTMATCH" in out
    final = [line for line in out.splitlines() if "FINAL" in line]
    assert final
    assert "STOP" in final[0]


def test_policy_nothing_triggers_go(tmp_path, capsys) -> None:
    """An image that triggers nothing gets FINAL GO and exit 0."""
    image, _ = KINDS["secret-mount-build"]
    policy = tmp_path / "policy"
    policy.write_text(
        "FILECHECK:FILENAMEMATCH:STOP:FILECHECK_NAMEREGEXP=.*/.ssh/id_rsa$\nSEVERITY:HIGH:STOP\n"
    )
    code = cli.main(["injector", "scan", write(image, "legacy", tmp_path), "--policy", str(policy)])
    final = [line for line in capsys.readouterr().out.splitlines() if "FINAL" in line]
    assert code == 0
    assert "GO" in final[0]


def test_cache_holds_no_value_and_is_reused(tmp_path) -> None:
    """The layer cache lands under $XDG_CACHE_HOME/injector/scan, holds no value, and is reused."""
    image, _ = KINDS["visible-file"]
    target = write(image, "legacy", tmp_path)
    env = {
        "PATH": os.environ["PATH"],
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
    }
    first = runner.run(env, "scan", target, "--format", "json")
    second = runner.run(env, "scan", target, "--format", "json")
    assert first.code == second.code == 1
    assert json.loads(first.stdout)["findings"] == json.loads(second.stdout)["findings"]
    files = list((tmp_path / "cache" / "injector" / "scan").iterdir())
    assert files
    blob = b"".join(f.read_bytes() for f in files)
    assert not [v for v in VALUES if v.encode() in blob]
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["docker-archive:/nonexistent.tar"], 66),
        (["oci:/nonexistent-dir"], 66),
        (["dir:/nonexistent-dir"], 66),
        ([], 64),
        (["dir:/", "--format", "xml"], 64),
        (["dir:/", "--fail-on", "severe"], 64),
    ],
)
def test_exit_codes(args, code) -> None:
    """Usage errors exit 64, a missing target 66, each with a one-line error."""
    proc = runner.run({"PATH": os.environ["PATH"]}, "scan", *args)
    assert proc.code == code, proc.err
    assert "Traceback" not in proc.err


def test_corrupt_member_named(tmp_path) -> None:
    """A broken layer exits 65 and names the member."""
    image, _ = KINDS["visible-file"]
    path = tmp_path / "a.tar"
    si.write_legacy(image, path)
    broken = tmp_path / "b.tar"
    with tarfile.open(path) as src, tarfile.open(broken, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name.endswith("layer.tar"):
                data = b"\x1f\x8b" + data[:100]
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    proc = runner.run({"PATH": os.environ["PATH"]}, "scan", f"docker-archive:{broken}")
    assert proc.code == 65
    assert "layer.tar" in proc.err
    assert "Traceback" not in proc.err


def test_engine_unavailable(tmp_path) -> None:
    """An engine socket that nobody serves exits 69."""
    env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    proc = runner.run(env, "scan", "busybox:latest")
    assert proc.code == 69, proc.err


class _FakeEngine:
    """A Unix-socket HTTP server answering the two Engine API calls the scan makes."""

    def __init__(self, path, archive: bytes, name: str) -> None:
        import http.server
        import socketserver
        import threading

        archive_bytes, image = archive, name

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == f"/images/{image}/json":
                    body = json.dumps({"Id": "sha256:" + "ab" * 32, "RepoTags": [image]}).encode()
                elif self.path == f"/images/{image}/get":
                    body = archive_bytes
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def address_string(self) -> str:
                return "unix"

            def log_message(self, *args) -> None:
                del args

        self.server = socketserver.UnixStreamServer(str(path), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("fmt", ["legacy", "docker25-nested-zstd"])
def test_engine_stream(fmt, tmp_path) -> None:
    """An engine export (legacy and Docker-25 layouts) is scanned in one streaming pass."""
    image, expected = KINDS["deleted-next-layer"]
    target = write(image, fmt, tmp_path)
    archive = Path(target.split(":", 1)[1]).read_bytes()
    engine = _FakeEngine(tmp_path / "docker.sock", archive, "planted")
    try:
        env = {"PATH": os.environ["PATH"], "DOCKER_HOST": f"unix://{tmp_path}/docker.sock"}
        proc = runner.run(env, "scan", "planted", "--format", "json", "--no-cache")
        missing = runner.run(env, "scan", "absent", "--no-cache")
    finally:
        engine.close()
    assert proc.code == 1, proc.err
    assert planted(json.loads(proc.stdout)["findings"]) == expected
    assert missing.code == 66


def test_skip_layers_of(tmp_path) -> None:
    """--skip-layers-of skips exactly the layers the other image shares (opt-in)."""
    image, _ = KINDS["deleted-next-layer"]
    base = si.Image(image.layers[:1])
    target = write(image, "legacy", tmp_path / "a")
    other = write(base, "oci-dir-nested", tmp_path / "b")
    _, full = scan(target)
    _, skipped = scan(target, "--skip-layers-of", other)
    assert full["findings"]
    assert skipped["findings"] == []


def test_config_allow_disable_and_extra_rule(tmp_path) -> None:
    """--config allowlists paths, disables rules and adds a rule of the organisation's own."""
    token = "acme_" + si.password(32).lower()
    runner.EXTRA_SECRETS.add(token.encode())
    layer = si.Layer(
        {
            "/root/.ssh/id_rsa": VALUES[0].encode(),
            "/app/acme.txt": f"key {token}\n".encode(),
            "/app/tests/fixture.env": f"AWS_ACCESS_KEY_ID={VALUES[1]}\n".encode(),
        }
    )
    target = write(si.Image([layer]), "legacy", tmp_path)
    config = tmp_path / "scan.toml"
    config.write_text(
        'allow_paths = ["/app/tests/*"]\n'
        'disable = ["ssh-private-key-file"]\n'
        "[[rule]]\n"
        'id = "acme-token"\n'
        "regex = 'acme_[a-z0-9]{32}'\n"
        'keywords = ["acme_"]\n'
        'severity = "critical"\n'
    )
    _, document = scan(target, "--config", str(config))
    found = {(f["rule"], f["path"], f["severity"]) for f in document["findings"]}
    assert found == {
        ("private-key", "/root/.ssh/id_rsa", "critical"),
        ("acme-token", "/app/acme.txt", "critical"),
    }
    assert token not in json.dumps(document)


def test_help_lists_scan() -> None:
    """``injector help`` shows the scan command; ``scan --help`` prints help, exit 0."""
    proc = runner.run({"PATH": os.environ["PATH"]}, "scan", "--help")
    assert proc.code == 0
    assert b"injector scan TARGET" in proc.stdout


def test_created_by_hides_every_secret_of_its_entry(tmp_path) -> None:
    """A history line with two secrets shows neither in any finding's created_by."""
    one, two = si.github_token(), si.github_token()
    runner.EXTRA_SECRETS.update({one.encode(), two.encode()})
    history = [{"created_by": f"|2 A_TOKEN={one} B_TOKEN={two} /bin/sh -c make"}]
    target = write(si.Image([si.Layer({"/a": b"x"})], history=history), "legacy", tmp_path)
    _, document = scan(target)
    assert len(document["findings"]) == 2
    text = json.dumps(document)
    assert one not in text
    assert two not in text
