"""INJECTOR_ENV_FROM: name mapping, object and path expansion, vals' SSM tree, references."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from injector import expand, references
from injector.backends import ssm_path
from injector.deadline import Deadline
from injector.errors import BadDataError, ConfigError
from injector.references import PATH_SERVICE, Source, parse

MAX = 1 << 20


def pairs(text: str, data: bytes) -> dict[str, bytes]:
    """Expand *data* as fetched for the INJECTOR_ENV_FROM entry *text*."""
    (entry,) = expand.plan([text])
    found = expand.pairs(entry, data, max_bytes=MAX, deadline=Deadline(10))
    return {name: secret.reveal() for name, secret in found}


@pytest.mark.parametrize(("relative", "name"), [
    ("db-password", "DB_PASSWORD"), ("db/user", "DB_USER"), ("api.key", "API_KEY"),
    ("MiXed/Case-1", "MIXED_CASE_1"), ("naïve", "NA_VE"), ("2fa", "2FA"),
])
def test_variable_names(relative: str, name: str) -> None:
    """Below-path names: '/' as '_', upper-cased, anything outside [A-Z0-9_] as '_'."""
    assert expand.variable_name(relative) == name


@given(st.text(min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_mapped_names_use_only_the_allowed_alphabet(relative: str) -> None:
    """Whatever the parameter name, the mapping only yields [A-Z0-9_] characters."""
    assert set(expand.variable_name(relative)) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def test_path_reference_forms() -> None:
    """PATH/ is a path (recursive optional); without the slash it is one parameter."""
    ref = parse("ref+awsssm://prod/pay/?recursive=true&region=eu-west-1", many=True)
    assert ref.source == Source(PATH_SERVICE, "/prod/pay", "eu-west-1", (("recursive", "true"),))
    assert parse("ref+awsssm://prod/pay").source.service == "ssm"
    with pytest.raises(ConfigError, match="INJECTOR_ENV_FROM"):
        parse("ref+awsssm://prod/pay/")
    with pytest.raises(ConfigError, match="recursive= applies to a path"):
        parse("ref+awsssm://prod/pay?recursive=true&mode=singleparam")


def test_vals_prefix_fragment_is_a_tree_lookup() -> None:
    """ref+awsssm://PREFIX#/NAME reads below PREFIX as vals does; mode=singleparam reads one."""
    ref = parse("ref+awsssm://foo?recursive=true#/bar/a")
    options = (("recursive", "true"), ("tree", "true"))
    assert ref.source == Source(PATH_SERVICE, "/foo", None, options)
    assert ref.pointer == "/bar/a"
    single = parse("ref+awsssm://foo/bar?mode=singleparam#/BAR")
    assert (single.source.service, single.source.name) == ("ssm", "/foo/bar")
    assert single.pointer == "/BAR"
    with pytest.raises(ConfigError, match="mode=singleparam"):
        parse("ref+awsssm://foo?version=2#/bar")
    with pytest.raises(ConfigError, match="only mode"):
        parse("ref+awsssm://foo?mode=other#/bar")


def test_tree_is_vals_shape() -> None:
    """Names nest by '/'; in a clash the deeper name wins (vals' recursive rule)."""
    tree = ssm_path.tree({"a": "A", "bar/x": "X", "bar": "B", "c": "C", "c/d": "D"})
    assert tree == {"a": "A", "bar": {"x": "X"}, "c": {"d": "D"}}


def test_role_and_profile_become_auth() -> None:
    """role_arn and profile leave the options and form the source's auth (%2B is a '+')."""
    ref = parse("ref+s3://b/k?role_arn=arn:aws:iam::123456789012:role/a%2Bb&profile=p&version=3")
    assert ref.source.auth == (("profile", "p"), ("role_arn", "arn:aws:iam::123456789012:role/a+b"))
    assert ref.source.options == (("version_id", "3"),)
    with pytest.raises(ConfigError, match="role_arn must be"):
        parse("ref+s3://b/k?role_arn=arn:aws:iam::123456789012:role/a+b")


def test_secretref_and_kms_alg() -> None:
    """secretref+ is ref+ (vals); alg= is one of vals' three names."""
    assert parse("secretref+awsssm://x/y").source == Source("ssm", "/x/y")
    assert parse("ref+awskms://AAAA?alg=RSAES_OAEP_SHA_256").source.option("alg")
    with pytest.raises(ConfigError, match="alg must be"):
        parse("ref+awskms://AAAA?alg=rot13")


def test_path_pairs_and_collisions() -> None:
    """A path's parameters become variables; two names mapping to one are refused."""
    data = json.dumps({"db-password": "p", "db/user": "u"}).encode()
    assert pairs("ref+awsssm://prod/", data) == {"DB_PASSWORD": b"p", "DB_USER": b"u"}
    clash = json.dumps({"db-user": "1", "db_user": "2"}).encode()
    with pytest.raises(BadDataError, match="/prod/db-user and /prod/db_user"):
        pairs("ref+awsssm://prod/", clash)
    with pytest.raises(BadDataError, match="/prod/9lives"):
        pairs("ref+awsssm://prod/", b'{"9lives": "x"}')


def test_object_pairs() -> None:
    """Keys as names; strings as they are, numbers as stored, booleans as JSON text."""
    data = b'{"A": "x", "N": 1.50, "T": true, "O": {"I": "i"}}'
    with pytest.raises(BadDataError, match="'O' holds an object"):
        pairs("ref+awssecrets://s", data)
    assert pairs("ref+awssecrets://s#/O", data) == {"I": b"i"}
    assert pairs("ref+awssecrets://s", b'{"A": "x", "N": 1.50, "T": true}') == {
        "A": b"x", "N": b"1.50", "T": b"true"}
    with pytest.raises(BadDataError, match="not a JSON object"):
        pairs("ref+awssecrets://s#/A", data)
    with pytest.raises(BadDataError, match="'a-b' is not a variable name"):
        pairs("ref+awssecrets://s", b'{"a-b": "x"}')


def test_dotenv_and_neither() -> None:
    """Dotenv is accepted; a value that is neither JSON object nor dotenv is 65."""
    assert pairs("ref+s3://b/e", b"A=1\nexport B='2'\n") == {"A": b"1", "B": b"2"}
    with pytest.raises(BadDataError, match="neither a JSON object nor dotenv"):
        pairs("ref+s3://b/e", b"just a secret")
    (entry,) = expand.plan(["ref+s3://b/e"])
    with pytest.raises(BadDataError, match="above INJECTOR_MAX_SECRET_BYTES"):
        expand.pairs(entry, b"A=1\n", max_bytes=2, deadline=Deadline(10))


def test_is_reference_knows_secretref() -> None:
    """secretref+ values are references too."""
    assert references.is_reference("secretref+awsssm://x")
