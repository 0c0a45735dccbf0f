"""Unit tests of the scan's detector, redaction, fingerprints, visibility, config and policy."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from injector.scan import configscan, known, policy, redact, rules, visibility
from injector.scan.detect import Detector
from injector.scan.model import Finding, LayerScan
from injector.scan.settings import Settings
from tests.support import scan_images as si


@pytest.fixture(scope="module")
def detector():
    """One detector with default settings."""
    return Detector(Settings())


RULE_IDS = set(rules.all_rules())


def rule_ids(hits):
    """Return the rule ids of *hits*."""
    return sorted(h.rule for h in hits)


def test_every_library_regex_plugin_is_in_the_table() -> None:
    """A library upgrade that adds a regex plugin fails here until the table names it."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    names = {
        c.__name__
        for c in get_mapping_from_secret_type_to_class().values()
        if issubclass(c, RegexBasedDetector)
    }
    assert names == {p.name for p in rules.PLUGINS}
    assert all(getattr(__import__(p.module, fromlist=[p.name]), p.name) for p in rules.PLUGINS)


CASES = [
    ("/a.txt", f"id {si.aws_key_id()}\n", "aws-access-key"),
    ("/a.txt", f"token {si.github_token()}\n", "github-token"),
    (
        "/root/.docker/config.json",
        '{"auths":{"r":{"auth":"' + si.b64("u:" + si.password()) + '"}}}',
        "docker-auth",
    ),
    ("/app/.npmrc", f"//r/:_authToken={si.password(12)}\n", "npmrc-auth-token"),
    (
        "/root/.kube/config",
        f"users:\n- user:\n    token: {si.password(20)}\n",
        "kubeconfig-credential",
    ),
    ("/root/.pypirc", f"[pypi]\npassword = {si.password()}\n", "pypirc-password"),
    ("/app/app.ini", f"db_password = {si.password()}\n", "secret-name-literal"),
    ("/etc/x.txt", "postgres://bob:" + si.password() + "@db.test/x\n", "url-credentials"),
]


@pytest.mark.parametrize(("path", "text", "rule"), CASES, ids=[c[2] for c in CASES])
def test_rules_fire(detector, path, text, rule) -> None:
    """Each of our rules and the library's plugins fires on a fresh value of its format."""
    assert rule in rule_ids(detector.content_hits(path, text.encode()))


def test_private_key_and_file_name(detector) -> None:
    """A PEM key is critical; its file name under .ssh triggers the file rule too."""
    pem = si.private_key_pem().encode()
    assert rule_ids(detector.content_hits("/root/.ssh/id_ed25519", pem)) == ["private-key"]
    assert rule_ids(detector.path_hits("/root/.ssh/id_ed25519")) == ["ssh-private-key-file"]
    assert detector.path_hits("/root/.ssh/id_ed25519.pub") == []


def test_comments_and_placeholders_are_not_literals(detector) -> None:
    """Commented examples, placeholders and references are not secret literals."""
    text = b"# password = hunter22\npassword = ${DB_PASSWORD}\npassword=ref+awsssm://x/y\n"
    hits = detector.content_hits("/etc/app.conf", text)
    assert rule_ids(hits) == ["uses-reference"]


def test_binaries_only_by_name_and_known_values() -> None:
    """A binary's content is not run through the rules, but known values are found in it."""
    value = si.password(12)
    det = Detector(Settings(), known.expand(value.encode(), "ref+awsssm://p/v"))
    data = b"\0\1\2" + si.github_token().encode() + b" " + value.encode()
    assert rule_ids(det.content_hits("/bin/app", data)) == ["known-value"]


@pytest.mark.parametrize("encoding", ["raw", "base64", "url", "json", "hex"])
def test_known_value_encodings(encoding) -> None:
    """A known value is found raw, base64 (any alignment), URL-encoded, JSON-escaped and hex."""
    import base64
    import json
    import urllib.parse

    value = 'p@ss w"rd/' + si.password(6)
    encoded = {
        "raw": value,
        "base64": base64.b64encode(b"xy" + value.encode() + b"z").decode(),
        "url": urllib.parse.quote(value, safe=""),
        "json": json.dumps({"v": value}),
        "hex": value.encode().hex(),
    }[encoding]
    det = Detector(Settings(), known.expand(value.encode(), "ref+awsssm://p/v"))
    hits = det.content_hits("/app/notes.txt", f"x {encoded} y\n".encode())
    assert [h.rule for h in hits] == ["known-value"]
    assert hits[0].redacted == ""
    assert "ref+awsssm://p/v" in hits[0].detail


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abcdefghijklmnopqrst", "ab…st (20 chars)"),
        ("abcdefghij", "a…j (10 chars)"),
        ("abcde", "(5 chars)"),
    ],
)
def test_redaction(value, shown) -> None:
    """Redaction shows at most two characters at each end plus the length; fewer when short."""
    assert redact.redact(value) == shown


def test_fingerprint_is_not_value_derived() -> None:
    """Two findings that differ only in the value's redaction share a fingerprint."""
    one = Finding("r", "c", "high", "layer", "/p", "m", redacted="ab…cd (20 chars)")
    two = Finding("r", "c", "high", "layer", "/p", "m", redacted="zz…yy (30 chars)")
    assert one.fingerprint == two.fingerprint
    assert one.fingerprint != Finding("r", "c", "high", "layer", "/q", "m").fingerprint


def test_visibility_whiteout_opaque_replace_and_links() -> None:
    """Whiteouts, opaque parents and replacements hide a path; a surviving hard link does not."""
    base = LayerScan(paths={"/a/f", "/b/g", "/c/h", "/l"}, links={"/l": "/c/h"})
    layers = [base, LayerScan(whiteouts={"/a"}, opaque={"/b"}), LayerScan(paths={"/c/h"})]
    assert visibility.deleted_in(layers, 0, "/a/f") == 1
    assert visibility.deleted_in(layers, 0, "/b/g") == 1
    assert visibility.hidden_in(layers, 0, "/c/h") == 2
    assert visibility.deleted_in(layers, 0, "/c/h") is None  # /l still links to it


def test_build_args_parsed() -> None:
    """``|N K=V`` pairs of history lines are split off the command."""
    pairs, rest = configscan.build_args("|2 A=1 TOKEN=xyz /bin/sh -c make")
    assert pairs == [("A", "1"), ("TOKEN", "xyz")]
    assert rest == "/bin/sh -c make"


def test_policy_parses_seed_line() -> None:
    """The seed's own line parses with its parameter."""
    gate = policy.parse("FILECHECK:FILENAMEMATCH:STOP:FILECHECK_NAMEREGEXP=.*/.ssh/id_rsa$")
    assert (gate.gate, gate.trigger, gate.action) == ("FILECHECK", "FILENAMEMATCH", "STOP")
    assert gate.params == {"FILECHECK_NAMEREGEXP": ".*/.ssh/id_rsa$"}


@pytest.mark.parametrize("line", ["FILECHECK:FILENAMEMATCH:HALT:X=1", "NOPE:X:STOP", "A:B"])
def test_policy_rejects_bad_lines(line) -> None:
    """Bad actions, gates and shapes are configuration errors."""
    from injector.errors import ConfigError

    with pytest.raises(ConfigError):
        policy.parse(line)


def test_hostile_lines_stay_bounded(detector) -> None:
    """A file built to make regexes backtrack costs time proportional to its size."""
    hostile = ("aws" + " " * 30 + "key" + "a" * 39 + "=") * 2000 + "://" + "a" * 20000 + ":" * 20000
    started = time.monotonic()
    detector.content_hits("/etc/x.conf", hostile.encode())
    assert time.monotonic() - started < 20  # generous: a catastrophic case takes hours


def test_exec_path_imports_no_scan_module() -> None:
    """``python -X importtime -m injector -- /bin/true`` imports nothing of injector.scan."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "injector", "--", "/bin/true"],
        capture_output=True,
        check=False,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    imported = re.findall(r"\|\s+(injector\.\S+)", proc.stderr)
    assert imported, "importtime printed nothing"
    assert not [m for m in imported if m.startswith("injector.scan")]
    assert "ahocorasick" not in proc.stderr
    assert "detect_secrets" not in proc.stderr


def test_command_flags_match_the_scan_module() -> None:
    """The thin command module declares exactly the options the scan module reads."""
    import inspect
    import re

    from injector.commands import scan as command
    from injector.scan import main

    read = set(re.findall(r'"(--[a-z][a-z-]*)"', inspect.getsource(main)))
    assert read == set(command.FLAGS)
