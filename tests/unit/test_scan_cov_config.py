"""Unit tests of config scanning, known-value encodings, text reports and rule hashing."""

from __future__ import annotations

import base64
import io
import tarfile

import pytest

from injector.scan import configscan, findings, known, layers, report, rules, run
from injector.scan.detect import Detector
from injector.scan.errors import CorruptArchiveError
from injector.scan.model import Finding, Image
from injector.scan.settings import Settings
from tests.support import scan_images as si

TOKEN = si.github_token()


@pytest.fixture(scope="module")
def detector():
    """Return one detector with default settings."""
    return Detector(Settings())


def _items(config, detector):
    return list(configscan.scan(config, detector))


def test_command_given_as_a_string_is_scanned(detector) -> None:
    """A Cmd written as one string (not a list) is scanned like a command line."""
    items = _items({"config": {"Cmd": f"app --token {TOKEN}"}}, detector)
    assert [(i.source, i.path, i.match.rule.id) for i in items] == [
        ("config-cmd", "Cmd", "github-token")
    ]


def test_command_assignments_report_secret_names(detector) -> None:
    """``--password=literal`` in a command is a secret-name-literal; a reference is not."""
    text = "app --password=hunter2hunter --db_password=ref+awsssm://prod/db --verbose"
    items = _items({"config": {"Entrypoint": text.split()}}, detector)
    assert [(i.match.rule.id, i.match.detail) for i in items] == [
        (rules.SECRET_LITERAL.id, "password")
    ]


def test_command_with_unbalanced_quotes_is_still_split(detector) -> None:
    """A command shlex cannot parse is split on whitespace and still scanned."""
    items = _items({"config": {"Cmd": ["sh", "-c", "echo 'x PASSWORD=hunter2hunter"]}}, detector)
    assert [i.match.rule.id for i in items] == [rules.SECRET_LITERAL.id]


def test_command_secret_is_not_reported_twice(detector) -> None:
    """A token a rule matched is not reported again as a NAME=literal assignment."""
    items = _items({"config": {"Cmd": [f"API_TOKEN={TOKEN}"]}}, detector)
    assert [i.match.rule.id for i in items] == ["github-token"]


def test_history_entries_that_are_not_tables_are_skipped(detector) -> None:
    """A history list holding non-objects is tolerated; a non-list history is ignored."""
    assert _items({"history": ["oops", 3]}, detector) == []
    assert _items({"history": "oops"}, detector) == []


def test_distro_example_secret_is_not_a_literal_finding(detector) -> None:
    """openssl.cnf's shipped example is exempt from the name=literal rule."""
    data = b"[ req ]\nsecret = pass:insta\n"
    hits = detector.content_hits("/etc/ssl/openssl.cnf", data)
    assert rules.SECRET_LITERAL.id not in {h.rule for h in hits}


def test_base64_certificate_is_not_a_private_key(detector) -> None:
    """Base64 of a PEM certificate (not a key) is not a base64-private-key finding."""
    pem = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
    data = b"users:\n- user:\n    client-certificate-data: " + base64.b64encode(pem) + b"\n"
    hits = detector.content_hits("/root/.kube/config", data)
    assert "base64-private-key" not in {h.rule for h in hits}


def test_expand_strips_and_skips_short_encodings() -> None:
    """A value with surrounding whitespace is also searched stripped; short ones yield little."""
    texts = {k.text for k in known.expand(b" s3cr3tvalue\n", "ref")}
    assert " s3cr3tvalue\n" in texts
    assert "s3cr3tvalue" in texts
    tiny = known.expand(b"a", "ref")
    assert all(len(k.text) >= known.MIN_LENGTH for k in tiny)
    assert {k.encoding for k in tiny} <= {"hex", "url-encoded", "json-escaped"}


def _result(findings: list[Finding], suppressed: int = 0) -> run.Result:
    return run.Result("dir:/x", Image({}, []), findings, "high", 1, suppressed)


def test_text_report_shows_config_findings_fixes_and_suppressed() -> None:
    """A config finding has no layer state, its fix is printed, and suppressions are counted."""
    finding = Finding(
        "secret-name-literal",
        "password",
        "medium",
        "config-env",
        "DB_PASSWORD",
        "ENV DB_PASSWORD holds a literal",
        redacted="(5 chars)",
        suggestion="DB_PASSWORD=ref+awsssm://...",
    )
    text = report.to_text(_result([finding], suppressed=2))
    assert "config-env   DB_PASSWORD (5 chars)" in text
    assert "[visible]" not in text
    assert "fix: DB_PASSWORD=ref+awsssm://..." in text
    assert "2 findings suppressed by the baseline" in text
    assert finding.uri == "image-config/env/DB_PASSWORD"


def test_rules_hash_without_the_library_installed(monkeypatch) -> None:
    """The rules hash still works (as "unknown") when the library's metadata is missing."""
    before = run.rules_hash("x")
    monkeypatch.setattr(rules, "LIBRARY", "no-such-distribution-for-injector-tests")
    assert run.rules_hash("x") != before


def test_layer_with_too_many_entries_is_65(detector, monkeypatch) -> None:
    """A layer above the entry cap is refused as corrupt, naming the member."""
    monkeypatch.setattr(layers, "MAX_ENTRIES", 2)
    data = si.Layer({"/a": b"1", "/b": b"2", "/c": b"3"}).tar()
    with pytest.raises(CorruptArchiveError, match="more than 2 entries"):
        layers.scan_layer(io.BytesIO(data), detector, layers.Limits(), "L")


def test_layer_keeps_hard_links_and_ignores_devices(detector) -> None:
    """A hard link is recorded with its target; a device entry is a path with no content."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        device = tarfile.TarInfo("dev/null")
        device.type = tarfile.CHRTYPE
        tar.addfile(device)
        link = tarfile.TarInfo("srv/copy")
        link.type, link.linkname = tarfile.LNKTYPE, "etc/secret"
        tar.addfile(link)
    result = layers.scan_layer(io.BytesIO(out.getvalue()), detector, layers.Limits(), "L")
    assert result.links == {"/srv/copy": "/etc/secret"}
    assert result.paths == {"/dev/null", "/srv/copy"}
    assert result.hits == {}


def test_healthcheck_test_is_scanned(detector) -> None:
    """A Healthcheck's Test command is scanned; harmless ``--level=3`` options are not."""
    check = {"Test": ["CMD-SHELL", f"probe --level=3 --token {TOKEN}"]}
    items = _items({"config": {"Healthcheck": check}}, detector)
    assert [(i.path, i.match.rule.id) for i in items] == [("Healthcheck", "github-token")]


def test_config_findings_without_a_usable_name_or_layer(detector) -> None:
    """A label name that is no variable name gets no fix-it; a leading empty_layer maps to none."""
    config = {
        "config": {"Labels": {"api token": TOKEN}},
        "history": [{"empty_layer": True, "created_by": f"|1 GH_TOKEN={TOKEN} /bin/sh -c true"}],
    }
    found = findings.from_config(Image(config, []), detector, "scan-fixture:latest")
    label = next(f for f in found if f.source == "config-label")
    assert label.suggestion is None
    arg = next(f for f in found if f.source == "history")
    assert arg.layer_index is None
    assert TOKEN not in (arg.created_by or "")
