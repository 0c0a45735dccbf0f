"""Unit tests of the scan's inputs: baselines, --config, --policy, the cache and redaction."""

from __future__ import annotations

import json
import os

import pytest

from injector.errors import ConfigError
from injector.scan import baseline, cache, policy, redact, settings
from injector.scan.model import Finding, Hit, Image, LayerScan


def _finding(**changes: object) -> Finding:
    """Return a layer finding with *changes* applied."""
    fields: dict[str, object] = {
        "rule": "github-token",
        "category": "token",
        "severity": "high",
        "source": "layer",
        "path": "/app/.env",
        "message": "a GitHub token",
        "layer_index": 0,
        "layer_digest": "sha256:" + "a" * 64,
        "visible_in_final": True,
    }
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


# --- baselines -------------------------------------------------------------------------


def test_baseline_unreadable_file_is_a_config_error(tmp_path) -> None:
    """A --baseline that does not exist is a ConfigError naming the file."""
    with pytest.raises(ConfigError, match=r"cannot read --baseline .*absent.json"):
        baseline.load(str(tmp_path / "absent.json"))


def test_baseline_invalid_json_is_a_config_error(tmp_path) -> None:
    """A --baseline that is not JSON is a ConfigError."""
    path = tmp_path / "b.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read --baseline"):
        baseline.load(str(path))


@pytest.mark.parametrize("document", [[], {"fingerprints": "x"}, {"fingerprints": [1]}, {}])
def test_baseline_wrong_shape_is_a_config_error(tmp_path, document) -> None:
    """A baseline without a list of string fingerprints is refused."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError, match="expected"):
        baseline.load(str(path))


def test_baseline_write_then_load_round_trips(tmp_path) -> None:
    """write() stores sorted unique fingerprints that load() reads back."""
    path = tmp_path / "b.json"
    found = [_finding(), _finding(), _finding(path="/other")]
    baseline.write(str(path), found)
    assert baseline.load(str(path)) == {f.fingerprint for f in found}
    assert json.loads(path.read_text())["fingerprints"] == sorted({f.fingerprint for f in found})


def test_baseline_write_error_is_a_config_error(tmp_path) -> None:
    """A --write-baseline into a missing directory is a ConfigError naming the file."""
    target = tmp_path / "missing" / "b.json"
    with pytest.raises(ConfigError, match=r"cannot write --write-baseline .*b.json"):
        baseline.write(str(target), [_finding()])


# --- --config ---------------------------------------------------------------------------


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "scan.toml"
    path.write_text(text)
    return str(path)


def test_settings_default_when_no_file() -> None:
    """No --config gives the defaults: nothing allowlisted, nothing disabled."""
    assert settings.load(None) == settings.Settings()
    assert not settings.Settings().allows("/etc/passwd")


def test_settings_missing_file(tmp_path) -> None:
    """A --config that does not exist is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=r"cannot read --config .*nope.toml"):
        settings.load(str(tmp_path / "nope.toml"))


def test_settings_bad_toml(tmp_path) -> None:
    """A --config that is not TOML is a ConfigError."""
    with pytest.raises(ConfigError, match="not valid TOML"):
        settings.load(_config(tmp_path, "allow_paths = ["))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('allow_paths = "/x"', "allow_paths must be a list"),
        ("disable = [1]", "disable must be a list of strings"),
        ('rule = ["x"]', "each \\[\\[rule\\]\\] must be a table"),
        ('[[rule]]\nid = "r"', "needs an id and a regex"),
        ('[[rule]]\nregex = "a"', "needs an id and a regex"),
        (f'[[rule]]\nid = "r"\nregex = "{"a" * 1001}"\nkeywords=["a"]', "<= 1000"),
        ('[[rule]]\nid = "r"\nregex = "a"', "needs keywords"),
        ('[[rule]]\nid = "r"\nregex = "a"\nkeywords = "a"', "needs keywords"),
        ('[[rule]]\nid = "r"\nregex = "a"\nkeywords = ["a"]\nseverity = "dire"', "severity"),
        ('[[rule]]\nid = "r"\nregex = "a("\nkeywords = ["a"]', "rule r: bad regex"),
    ],
)
def test_settings_validation(tmp_path, text, message) -> None:
    """Each malformed --config is refused with a message saying what is wrong."""
    with pytest.raises(ConfigError, match=message):
        settings.load(_config(tmp_path, text))


def test_settings_extra_rule_and_digest(tmp_path) -> None:
    """A valid [[rule]] is compiled and changes the cache key input."""
    path = _config(
        tmp_path,
        'allow_paths = ["/doc/*"]\ndisable = ["key-file"]\n'
        '[[rule]]\nid = "acme"\nregex = "acme_[a-z]{4}"\nkeywords = ["acme_"]\n',
    )
    loaded = settings.load(path)
    assert loaded.allows("/doc/readme")
    assert loaded.disabled == {"key-file"}
    assert loaded.extra[0].rule.category == "custom"
    assert loaded.extra[0].literals == ("acme_",)
    assert loaded.digest_input() != settings.Settings().digest_input()


# --- --policy ---------------------------------------------------------------------------


def test_policy_unreadable_file(tmp_path) -> None:
    """A --policy that does not exist is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="cannot read --policy"):
        policy.load(str(tmp_path / "absent.policy"))


def test_policy_file_skips_comments_and_blank_lines(tmp_path) -> None:
    """Comment and blank lines of a policy file are not gates."""
    path = tmp_path / "p"
    path.write_text("# a comment\n\nSECRETS:ANY:STOP\n")
    assert [g.line for g in policy.load(str(path))] == ["SECRETS:ANY:STOP"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("SECRETS:ANY", "is not GATE:TRIGGER:ACTION"),
        ("SECRETS:ANY:STOP:VISIBLE", "is not PARAM=VALUE"),
        ("SECRETS:ANY:HALT", "action must be"),
        ("FILECHECK:OTHER:STOP:X=1", "FILECHECK needs"),
        ("FILECHECK:FILENAMEMATCH:STOP", "FILECHECK needs"),
        ("FILECHECK:FILENAMEMATCH:STOP:FILECHECK_NAMEREGEXP=" + "a" * 1001, "above 1000"),
        ("FILECHECK:CONTENTMATCH:STOP:FILECHECK_CONTENTREGEXP=a(", "bad regex"),
        ("NETWORK:ANY:STOP", "unknown gate"),
        ("SEVERITY:DIRE:STOP", "severity must be one of"),
    ],
)
def test_policy_line_validation(line, message) -> None:
    """Each malformed policy line is refused with a message quoting it."""
    with pytest.raises(ConfigError, match=message):
        policy.parse(line)


def test_policy_several_parameters_split() -> None:
    """Parameters after the action are split on ``:NAME=`` and keep colons in regexes."""
    gate = policy.parse("FILECHECK:FILENAMEMATCH:WARN:FILECHECK_NAMEREGEXP=a:b:VISIBLE=true")
    assert gate.params == {"FILECHECK_NAMEREGEXP": "a:b", "VISIBLE": "true"}


def _image() -> Image:
    first = LayerScan(paths={"/app/.env", "/root/.ssh/id_rsa"}, policy={"BEGIN": ["/k"]})
    second = LayerScan(whiteouts={"/root/.ssh/id_rsa"})
    return Image({}, [first, second])


@pytest.mark.parametrize(
    ("line", "findings", "count"),
    [
        ("CATEGORY:TOKEN:WARN", [_finding(), _finding(category="password")], 1),
        ("LOCATION:CONFIG-ENV:WARN", [_finding(), _finding(source="config-env")], 1),
        ("LOCATION:DELETED:STOP", [_finding(), _finding(deleted_in_layer=1)], 1),
        ("SECRETS:ANY:STOP", [_finding(), _finding(severity="info")], 1),
        ("SECRETS:GITHUB-TOKEN:STOP", [_finding(), _finding(rule="npm")], 1),
        ("SEVERITY:HIGH:STOP:VISIBLE=true", [_finding(), _finding(visible_in_final=False)], 1),
        ("SEVERITY:HIGH:STOP:VISIBLE=false", [_finding(), _finding(visible_in_final=False)], 1),
        ("SEVERITY:CRITICAL:STOP", [_finding()], 0),
    ],
)
def test_policy_finding_gates(line, findings, count) -> None:
    """Each finding gate (and VISIBLE=) selects exactly the findings it names."""
    rows = policy.evaluate([policy.parse(line)], _image(), findings)
    assert len(rows) == count + 1
    assert rows[-1].action == (rows[0].action if count else "GO")


def test_policy_file_gates_name_deleted_paths() -> None:
    """FILENAMEMATCH sees a deleted file and says where it was deleted; CONTENTMATCH reports."""
    gates = [
        policy.parse(r"FILECHECK:FILENAMEMATCH:STOP:FILECHECK_NAMEREGEXP=.*/\.ssh/id_rsa$"),
        policy.parse("FILECHECK:CONTENTMATCH:WARN:FILECHECK_CONTENTREGEXP=BEGIN"),
    ]
    assert [p.pattern for p in policy.content_regexes(gates)] == ["BEGIN"]
    rows = policy.evaluate(gates, _image(), [])
    assert "deleted in layer 1" in rows[0].output
    assert "file=/k (layer 0)" in rows[1].output
    assert rows[-1] == policy.Row("FINAL", "FINAL", "", "STOP")
    table = policy.table(rows, "0123456789abcdef", "t:1")
    assert "0123456789ab" in table
    assert "FINAL" in table


# --- cache ------------------------------------------------------------------------------


def test_cache_directory_prefers_xdg() -> None:
    """The cache lives under $XDG_CACHE_HOME, else ~/.cache."""
    assert cache.directory({"XDG_CACHE_HOME": "/x"}) == "/x/injector/scan"
    assert cache.directory({}).endswith(os.path.join(".cache", "injector", "scan"))


def _layer(diff_id: str = "sha256:" + "b" * 64) -> LayerScan:
    return LayerScan(
        diff_id=diff_id,
        paths={"/a", "/b"},
        whiteouts={"/c"},
        opaque={"/d"},
        links={"/b": "/a"},
        hits={"/a": [Hit("github-token", 3, "gh…x9 (40 chars)")]},
        policy={"BEGIN": ["/a"]},
        size=10,
        skipped=1,
    )


def test_cache_miss_put_hit_round_trip(tmp_path) -> None:
    """A miss, then a put, then a hit returning the same layer result (file 0600)."""
    store = cache.Cache(str(tmp_path / "c"), "rules")
    assert store.get(_layer().diff_id) is None
    store.put(_layer())
    assert store.get(_layer().diff_id) == _layer()
    (entry,) = os.listdir(tmp_path / "c")
    assert os.stat(tmp_path / "c" / entry).st_mode & 0o777 == 0o600
    assert cache.Cache(str(tmp_path / "c"), "other-rules").get(_layer().diff_id) is None


def test_cache_never_answers_for_an_empty_diff_id(tmp_path) -> None:
    """A layer without a diff_id (dir: targets) is never looked up."""
    assert cache.Cache(str(tmp_path), "r").get("") is None


@pytest.mark.parametrize(
    "content",
    [b"{corrupt", b"[]", b'{"diff_id": "sha256:other"}', b'{"diff_id": "D", "hits": []}'],
)
def test_cache_corrupt_entry_is_a_miss(tmp_path, content) -> None:
    """A corrupt or foreign cache entry is treated as a miss, never an error."""
    store = cache.Cache(str(tmp_path), "r")
    store.put(_layer("D"))
    (entry,) = os.listdir(tmp_path)
    (tmp_path / entry).write_bytes(content)
    assert store.get("D") is None


def test_cache_unwritable_is_skipped(tmp_path) -> None:
    """A cache root that cannot be created is skipped silently."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = cache.Cache(str(blocker / "sub"), "r")
    store.put(_layer())
    assert store.get(_layer().diff_id) is None


# --- redaction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [("a" * 7, "(7 chars)"), ("abcdefgh", "a…h (8 chars)"), ("ab" + "x" * 12 + "yz", "ab…yz")],
)
def test_redact_lengths(value, shown) -> None:
    """Short values show only their length; longer ones one or two characters each end."""
    assert redact.redact(value).startswith(shown)


def test_scrub_removes_known_values_redacts_secrets_and_cuts() -> None:
    """scrub() drops known values, redacts secrets, ignores empty ones and cuts long text."""
    text = "run KNOWNVALUE then SECRETVALUE " + "z" * 200
    out = redact.scrub(text, ["", "SECRETVALUE"], ["", "KNOWNVALUE"])
    assert "KNOWNVALUE" not in out
    assert "SECRETVALUE" not in out
    assert "[known value]" in out
    assert "[S…E (11 chars)]" in out
    assert len(out) == redact.MAX_CREATED_BY
    assert out.endswith("…")
    assert redact.scrub("short", []) == "short"
