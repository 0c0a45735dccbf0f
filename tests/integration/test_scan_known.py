"""``injector scan --known-from``: the organisation's own values, fetched from a real moto."""

from __future__ import annotations

import base64
import json
import os

import pytest

from tests.support import runner
from tests.support import scan_images as si

pytestmark = pytest.mark.integration


def test_short_password_found_only_by_known_value(aws_env, moto, tmp_path) -> None:
    """A short human password no rule can see is found, named by its reference, never shown."""
    value = si.password(9)
    runner.EXTRA_SECRETS.add(value.encode())
    moto.client("ssm").put_parameter(Name="/prod/db", Value=value, Type="SecureString")
    layer0 = si.Layer(
        {
            "/app/notes.txt": f"remember {value} for the db\n".encode(),
            "/app/blob.txt": base64.b64encode(b"k=" + value.encode()),
        }
    )
    history = [
        {"created_by": f"/bin/sh -c echo {value} > /dev/null"},
        {"created_by": "/bin/sh -c rm /app/notes.txt"},
    ]
    image = si.Image([layer0, si.Layer(whiteouts=["/app/notes.txt"])], history=history)
    target = "docker-archive:" + str(si.write_legacy(image, tmp_path / "a.tar"))
    known = tmp_path / "known.env"
    known.write_text("DB_PASSWORD=ref+awsssm://prod/db\n")
    env = {**aws_env, "PATH": os.environ["PATH"], "XDG_CACHE_HOME": str(tmp_path / "cache")}

    plain = runner.run(env, "scan", target, "--format", "json")
    assert plain.code == 0
    assert json.loads(plain.stdout)["findings"] == []

    env["XDG_CACHE_HOME"] = str(tmp_path / "known-cache")
    proc = runner.run(env, "scan", target, "--format", "json", "--known-from", str(known))
    assert proc.code == 1, proc.err
    document = json.loads(proc.stdout)
    found = {(f["path"], f["deleted_in_layer"]): f for f in document["findings"]}
    assert set(found) == {("/app/notes.txt", 1), ("/app/blob.txt", None), ("history/0", None)}
    assert found["history/0", None]["created_by"] == "/bin/sh -c echo [known value] > /dev/null"
    note = found["/app/notes.txt", 1]
    assert (note["rule"], note["severity"], note["redacted"]) == ("known-value", "critical", "")
    assert "ref+awsssm://prod/db" in note["message"]
    assert "deleted in layer 1" in note["message"]
    assert "base64" in found["/app/blob.txt", None]["message"]
    assert not (tmp_path / "known-cache").exists(), "--known-from must not write the cache"


def test_unreachable_reference_fails_closed(aws_env, tmp_path) -> None:
    """A known-from reference that cannot be fetched stops the scan with its exit code."""
    image = si.Image([si.Layer({"/a": b"x"})])
    target = "docker-archive:" + str(si.write_legacy(image, tmp_path / "a.tar"))
    known = tmp_path / "known.env"
    known.write_text("X=ref+awsssm://missing/param\n")
    proc = runner.run(
        {**aws_env, "PATH": os.environ["PATH"]}, "scan", target, "--known-from", str(known)
    )
    assert proc.code == 66
    assert "ref+awsssm://missing/param" in proc.err
