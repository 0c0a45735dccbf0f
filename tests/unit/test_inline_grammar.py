"""vals' inline grammar: which values are expressions, where each ends, what is kept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from injector import compat, inline, plan
from injector.config import Config
from injector.errors import ConfigError
from injector.references import parse
from injector.secret import Secret

# vals' DefaultRefRegexp, as written in its Go source (Go's RE2 and Python agree on it).
VALS = re.compile(r"((secret)?ref)\+([^\+:]*:\/\/[^\+\n ]+[^\+\n \",])\+?")


def texts(item: inline.Inline) -> list[str]:
    """Render parts: literals as they are, references by their text."""
    return [p if isinstance(p, str) else p.text for p in item.parts]


@pytest.mark.parametrize(("value", "parts"), [
    ("postgres://app:ref+awsssm://prod/db/password+@db:5432/app",
     ["postgres://app:", "ref+awsssm://prod/db/password", "@db:5432/app"]),
    ("a ref+awsssm://x/y b", ["a ", "ref+awsssm://x/y", " b"]),
    ('"ref+awssecrets://db#/password",', ['"', "ref+awssecrets://db#/password", '",']),
    ("ref+awsssm://a/b+ref+awsssm://c/d+", ["ref+awsssm://a/b", "ref+awsssm://c/d"]),
    ("x secretref+s3://b/k+ y", ["x ", "secretref+s3://b/k", " y"]),
])
def test_expressions_and_literals(value: str, parts: list[str]) -> None:
    """Each expression ends at '+', space, newline or the end; the rest is literal."""
    item = inline.parse("V", value)
    assert item is not None
    assert texts(item) == parts


@pytest.mark.parametrize("value", ["$HOME/ref+", "no refs here", "ref+x", "a ref+awsssm://a b"])
def test_values_without_expressions(value: str) -> None:
    """Text that vals' grammar does not match is not an inline value."""
    assert inline.whole(value) is not None or inline.parse("V", value) is None


@pytest.mark.parametrize(("value", "text"), [
    ("ref+awsssm://db/password", "ref+awsssm://db/password"),
    ("ref+awsssm://db/password+", "ref+awsssm://db/password"),
    ("ref+awskms://AQ+ID/x==", "ref+awskms://AQ+ID/x=="),
    ("ref+awskms://AQ+ID/x==+", "ref+awskms://AQ+ID/x=="),
    ("arn:aws:ssm:us-east-1:1:parameter/x", "arn:aws:ssm:us-east-1:1:parameter/x"),
    ("ref+awsssm:/typo", "ref+awsssm:/typo"),
])
def test_whole_values(value: str, text: str) -> None:
    """A whole expression (trailing '+' allowed) or a KMS ciphertext is one reference."""
    assert inline.whole(value) == text


def test_nested_expressions_are_refused() -> None:
    """Vals resolves nested expressions inside-out; injector refuses them (78)."""
    with pytest.raises(ConfigError, match="nested"):
        inline.parse("V", "a:ref+awsssm://x/ref+awsssm://y/z+")


def test_compose_never_reexpands() -> None:
    """Secrets are put in as bytes; a secret holding ref+ stays as it is."""
    item = inline.parse("V", "u:ref+awsssm://db/pw+@h $X")
    assert item is not None
    ref = parse("ref+awsssm://db/pw")
    composed = inline.compose(item, {ref: Secret(b"ref+awsssm://other+")})
    assert composed == b"u:ref+awsssm://other+@h $X"
    assert item.literal_bytes() == len("u:@h $X")


def test_plan_puts_inline_values_apart() -> None:
    """The plan lists inline values with their references and drops the variable."""
    the_plan = plan.build({"URL": "x:ref+awsssm://a/b+:y", "W": "ref+awsssm://c/d+"}, Config())
    assert [i.variable for i in the_plan.inline] == ["URL"]
    assert [d.variable for d in the_plan.deliveries] == ["W"]
    assert {"URL", "W"} <= the_plan.drop
    assert [r.text for r in the_plan.references()] == ["ref+awsssm://c/d", "ref+awsssm://a/b"]


def test_check_warns_where_vals_reads_differently() -> None:
    """A '+' inside a whole KMS value and a '~' pointer escape get a warning."""
    the_plan = plan.build({"K": "ref+awskms://AQ+ID==", "P": "ref+awssecrets://s#/a~1b",
                           "S": "ref+awsssm://same/as/vals"}, Config())
    messages = {d.reference: d.message for d in compat.warnings(the_plan)}
    assert set(messages) == {"ref+awskms://AQ+ID==", "ref+awssecrets://s#/a~1b"}


ALPHABET = st.sampled_from([*'ab/:+ \n",#?=.-_', "ref+", "secretref+", "ref+awsssm://"])


@given(st.lists(ALPHABET, max_size=30).map("".join))
@settings(max_examples=500, deadline=None)
def test_same_expressions_as_vals(value: str) -> None:
    """On any text, the expressions found are exactly those vals' regex finds."""
    expected = [m.group(0).removesuffix("+") for m in VALS.finditer(value)]
    found = [m.group(0).removesuffix("+") for m in inline.EXPRESSION.finditer(value)]
    assert found == expected


@given(st.dictionaries(st.sampled_from(["A", "B_FILE", "C"]),
                       st.lists(ALPHABET, max_size=20).map("".join), max_size=3))
@settings(max_examples=300, deadline=None)
def test_any_environment_plans_or_is_a_config_error(environ: dict[str, str]) -> None:
    """Whatever the values, planning either works or is one 78 naming a reference."""
    errors: list[ConfigError] = []
    try:
        the_plan = plan.build(environ, Config())
    except ConfigError as exc:
        errors.append(exc)
    if errors:
        assert errors[0].exit_code == 78
        return
    for item in the_plan.inline:
        rebuilt = "".join(p if isinstance(p, str) else p.text for p in item.parts)
        assert item.references()
        assert len(rebuilt) <= len(environ[item.variable])
        assert item.literal_bytes() < len(environ[item.variable].encode())
