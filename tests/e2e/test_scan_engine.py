"""``injector scan`` on a corpus planted with the real engine: every location kind, every format.

Images are built offline (``docker build`` with the classic builder, FROM the busybox and
Alpine images the container suite makes; Debian's docker.io has no BuildKit/buildx, so the
``RUN --mount=type=secret`` control lives in the synthetic integration corpus). Each image
has a manifest of exactly what it plants; the values are generated per run. Every image is
scanned through the Engine API (``GET /images/{name}/get``), as ``docker save`` writes it,
and as an OCI layout written by Debian's skopeo. Nothing planted may appear in any output,
the cache or the baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import base_env, docker_cmd
from tests.support import scan_images as si

pytestmark = pytest.mark.container

PREFIX = "injector-scan-e2e"
RUN_ID = uuid.uuid4().hex[:8]
FORMATS = ("engine", "docker-archive", "oci")
SECRETS: list[str] = []


def _fresh(value: str) -> str:
    SECRETS.append(value)
    return value


def _corpus() -> dict[str, tuple[str, str, dict[str, bytes], set[tuple]]]:
    """Map kind to (base, Dockerfile body, context files, expected findings)."""
    pem, key_id, secret = (
        _fresh(si.private_key_pem()),
        _fresh(si.aws_key_id()),
        _fresh(si.aws_secret()),
    )
    token, label, arg, pw = (
        _fresh(si.github_token()),
        _fresh(si.github_token()),
        _fresh(si.github_token()),
        _fresh(si.password()),
    )
    known = _fresh(si.password(9))
    nested = si.nested_tar_gz(
        {"/home/app/.git-credentials": f"https://bob:{pw}x@git.test\n".encode()}
    )
    return {
        "visible-file": (
            "busybox",
            "COPY config.env /app/config.env\n",
            {
                "config.env": (
                    f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n".encode()
                )
            },
            {
                ("aws-access-key", "layer", "/app/config.env", True, False),
                ("aws-secret-key", "layer", "/app/config.env", True, False),
            },
        ),
        "deleted-next-layer": (
            "busybox",
            "COPY id_rsa /root/.ssh/id_rsa\nRUN rm /root/.ssh/id_rsa\n",
            {"id_rsa": pem.encode()},
            {
                ("ssh-private-key-file", "layer", "/root/.ssh/id_rsa", False, True),
                ("private-key", "layer", "/root/.ssh/id_rsa", False, True),
            },
        ),
        "opaque-dir": (
            "busybox",
            (
                "COPY token.json /srv/conf/token.json\n"
                "RUN rm -rf /srv/conf && mkdir /srv/conf && echo hi > /srv/conf/readme.txt\n"
            ),
            {"token.json": json.dumps({"token": token}).encode()},
            {("github-token", "layer", "/srv/conf/token.json", False, True)},
        ),
        "env-literal": (
            "busybox",
            f"ENV DB_PASSWORD={pw}\n",
            {},
            {
                ("secret-name-literal", "config-env", "DB_PASSWORD", None, False),
                ("secret-name-literal", "history", "history", None, False),
            },
        ),
        "label-token": (
            "busybox",
            f"LABEL deploy.token={label}\n",
            {},
            {
                ("github-token", "config-label", "deploy.token", None, False),
                ("github-token", "history", "history", None, False),
            },
        ),
        "build-arg": (
            "busybox",
            "ARG GH_TOKEN\nRUN echo building\n",
            {},
            {("github-token", "history", "build-arg/GH_TOKEN", None, False)},
        ),
        "nested-archive": (
            "alpine",
            "COPY backup.tar.gz /opt/backup.tar.gz\n",
            {"backup.tar.gz": nested},
            {
                (
                    "url-credentials",
                    "layer",
                    "/opt/backup.tar.gz!/home/app/.git-credentials",
                    True,
                    False,
                ),
                (
                    "credentials-file",
                    "layer",
                    "/opt/backup.tar.gz!/home/app/.git-credentials",
                    True,
                    False,
                ),
            },
        ),
        "base64-pem-yaml": (
            "alpine",
            "COPY kube.yaml /etc/app/kube.yaml\n",
            {"kube.yaml": f"users:\n- user:\n    client-key-data: {si.b64(pem)}\n".encode()},
            {("base64-private-key", "layer", "/etc/app/kube.yaml", True, False)},
        ),
        "known-only": (
            "busybox",
            "COPY notes.txt /app/notes.txt\n",
            {"notes.txt": f"the db password is {known} ok\n".encode()},
            set(),
        ),
        "reference-env": (
            "busybox",
            "ENV DB_PASSWORD=ref+awsssm://prod/db\n",
            {},
            {("uses-reference", "config-env", "DB_PASSWORD", None, False)},
        ),
    }, {"arg": arg, "known": known, "pw": pw}


CORPUS, VALUES = _corpus()


def _tag(kind: str) -> str:
    return f"{PREFIX}/{kind}:{RUN_ID}"


@pytest.fixture(scope="module")
def planted(images, tmp_path_factory):
    """Build every planted image once (classic builder, no pull); remove them afterwards."""
    root = tmp_path_factory.mktemp("scan-corpus")
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    for kind, (base, body, files, _) in CORPUS.items():
        context = root / kind
        context.mkdir()
        for name, data in files.items():
            (context / name).write_bytes(data)
        (context / "Dockerfile").write_text(f'FROM {images[base]}\n{body}CMD ["/bin/sh"]\n')
        args = ["--build-arg", f"GH_TOKEN={VALUES['arg']}"] if kind == "build-arg" else []
        done = subprocess.run(
            ["docker", "build", "-q", "-t", _tag(kind), *args, str(context)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    yield root
    docker_cmd("image", "rm", "-f", *(_tag(k) for k in CORPUS), check=False)


def _target(kind: str, fmt: str, root: Path) -> str:
    if fmt == "engine":
        return _tag(kind)
    if fmt == "docker-archive":
        path = root / f"{kind}.tar"
        if not path.exists():
            docker_cmd("save", "-o", str(path), _tag(kind), timeout=120)
        return f"docker-archive:{path}"
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed (apt-get install skopeo)")
    layout = root / f"{kind}.oci"
    if not layout.exists():
        subprocess.run(
            ["skopeo", "copy", "-q", f"docker-daemon:{_tag(kind)}", f"oci:{layout}:scan"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return f"oci:{layout}"


OUTPUTS: list[bytes] = []


def scan(binary, *args, env=None):
    """Run ``injector scan``; keep its outputs for the leak check."""
    done = subprocess.run(
        [str(binary), "scan", *args],
        env=env or _env(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    OUTPUTS.extend([done.stdout, done.stderr])
    assert b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
    leaked = [v[:4] for v in SECRETS if v.encode() in done.stdout + done.stderr]
    assert not leaked, f"planted values in the output: {leaked}"
    return done


def _env(**extra):
    cache = Path(os.environ.get("INJECTOR_SCAN_E2E_CACHE", f"/tmp/injector-scan-e2e-{RUN_ID}"))
    return base_env(XDG_CACHE_HOME=str(cache), **extra)


def reduce(findings):
    """Reduce findings (without the legacy container_config copies) to comparable tuples."""
    items = []
    for f in findings:
        if f["path"].startswith("container_config/"):
            continue
        path = "history" if f["path"].startswith("history/") else f["path"]
        items.append(
            (f["rule"], f["source"], path, f["visible_in_final"], f["deleted_in_layer"] is not None)
        )
    return set(items)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_planted_set(binary, planted, kind, fmt) -> None:
    """Each planted image yields exactly its manifest's findings, whichever way it is read."""
    expected = CORPUS[kind][3]
    done = scan(binary, _target(kind, fmt, planted), "--format", "json")
    document = json.loads(done.stdout)
    assert reduce(document["findings"]) == expected
    high = any(f["severity"] in {"high", "critical"} for f in document["findings"])
    assert done.returncode == (1 if high else 0), done.stderr.decode()


def test_known_value_only_with_known_from(binary, planted, moto, aws_env, tmp_path) -> None:
    """The short password is found only with --known-from, named by its reference."""
    moto.client("ssm").put_parameter(
        Name="/scan/db", Value=VALUES["known"], Type="SecureString", Overwrite=True
    )
    known = tmp_path / "known.env"
    known.write_text("DB_PASSWORD=ref+awsssm://scan/db\n")
    done = scan(
        binary,
        _tag("known-only"),
        "--format",
        "json",
        "--known-from",
        str(known),
        env={**aws_env, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    findings = json.loads(done.stdout)["findings"]
    assert [(f["rule"], f["path"]) for f in findings] == [("known-value", "/app/notes.txt")]
    assert "ref+awsssm://scan/db" in findings[0]["message"]
    assert done.returncode == 1


@pytest.mark.parametrize("kind", ["busybox", "alpine", "debian"])
def test_clean_bases_nothing_at_medium(binary, images, kind) -> None:
    """The clean bases give no finding at medium or above (exit 0 at --fail-on medium)."""
    done = scan(binary, images[kind], "--format", "json", "--fail-on", "medium")
    worst = [f for f in json.loads(done.stdout)["findings"] if f["severity"] not in {"info", "low"}]
    assert worst == []
    assert done.returncode == 0


def test_run_dash_e_is_not_in_the_image(binary, images) -> None:
    """A value given only with ``docker run -e`` never reaches the image."""
    value = _fresh(si.password(12))
    docker_cmd(
        "run", "--rm", "--network", "none", "-e", f"DB_PASSWORD={value}", images["busybox"], "true"
    )
    done = scan(binary, images["busybox"], "--format", "json")
    assert value.encode() not in done.stdout
    assert done.returncode == 0


def test_sarif_baseline_and_leaks(binary, planted, tmp_path) -> None:
    """SARIF and a baseline for every planted image; then no planted value anywhere at all."""
    for kind in CORPUS:
        sarif = scan(
            binary,
            _tag(kind),
            "--format",
            "sarif",
            "--write-baseline",
            str(tmp_path / f"{kind}.baseline"),
        )
        assert json.loads(sarif.stdout)["version"] == "2.1.0"
        again = scan(binary, _tag(kind), "--baseline", str(tmp_path / f"{kind}.baseline"))
        assert again.returncode == 0
    cache = Path(_env()["XDG_CACHE_HOME"])
    stored = [p.read_bytes() for p in [*cache.rglob("*"), *tmp_path.iterdir()] if p.is_file()]
    blob = b"\n".join(OUTPUTS + stored)
    leaked = [v[:4] + "..." for v in SECRETS if v.encode() in blob]
    assert not leaked, f"planted values leaked: {leaked}"
