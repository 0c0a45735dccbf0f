"""Property-based tests: no input crashes a parser; every rejection is a 65/78 one-liner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from injector import envfile, jsonpointer, references
from injector.errors import BadDataError, ConfigError, InjectorError

pytestmark = pytest.mark.security
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCHEMES = st.sampled_from(
    [
        "ref+s3://",
        "ref+awsssm://",
        "ref+awssecrets://",
        "ref+awskms://",
        "ref+vault://",
        "arn:aws:ssm:us-east-1:1:parameter/",
        "arn:aws:secretsmanager:us-east-1:1:secret:",
        "arn:aws:",
        "",
    ]
)


def _names_no_content(err: InjectorError) -> None:
    pattern = r"env-file (is not valid UTF-8|syntax error at line \d+|line \d+: .*)"
    assert re.fullmatch(pattern, err.message)


def _one_line(err: InjectorError) -> None:
    assert "\n" not in str(err).strip() or err.reference is not None
    assert err.exit_code in {65, 78}


@FAST
@given(prefix=SCHEMES, rest=st.text(max_size=80))
def test_reference_parser_never_crashes(prefix: str, rest: str) -> None:
    """Any text either parses into a Reference or is a ConfigError (78)."""
    try:
        ref = references.parse(prefix + rest)
    except ConfigError as err:
        _one_line(err)
    else:
        assert ref.source.service in {"s3", "ssm", "ssmpath", "secretsmanager", "kms"}


@FAST
@given(
    arn=st.lists(
        st.text(alphabet=st.characters(blacklist_characters=":"), max_size=12),
        min_size=0,
        max_size=12,
    )
)
def test_arn_parser_never_crashes(arn: list[str]) -> None:
    """Colon-joined junk after a secret ARN prefix parses or is rejected cleanly."""
    text = "arn:aws:secretsmanager:us-east-1:1:secret:" + ":".join(arn)
    try:
        references.parse(text)
    except ConfigError as err:
        _one_line(err)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@FAST
@given(
    doc=st.binary(max_size=64) | JSON.map(lambda v: __import__("json").dumps(v).encode()),
    pointer=st.text(max_size=16),
)
def test_json_pointer_never_crashes(doc: bytes, pointer: str) -> None:
    """Any document and pointer give bytes or a BadDataError (65)."""
    try:
        out = jsonpointer.select(doc, pointer, reference="r")
    except BadDataError as err:
        _one_line(err)
    else:
        assert isinstance(out, bytes)


@FAST
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_env_file_parser_never_crashes(data: bytes) -> None:
    """Any env-file content gives pairs or a BadDataError (65) that names no content."""
    try:
        pairs = envfile.parse(data, reference="r")
    except BadDataError as err:
        _one_line(err)
        _names_no_content(err)
    else:
        assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in pairs)


def test_large_env_file() -> None:
    """A 10,000-line env-file parses in one go."""
    data = "".join(f"KEY_{i}='value {i}'\n" for i in range(10_000)).encode()
    pairs = envfile.parse(data, reference="r")
    assert len(pairs) == 10_000
    assert pairs[-1] == ("KEY_9999", b"value 9999")


def test_exactly_one_execve_in_the_package() -> None:
    """os.execve appears exactly once in injector/ (execute.py), so there is one exec site."""
    root = Path(__file__).resolve().parents[2] / "injector"
    calls = [
        (path.name, line)
        for path in root.rglob("*.py")
        for line in path.read_text().splitlines()
        if re.search(r"\bos\.(execv|execve|execvp|execvpe|spawn\w*|system|popen)\(", line)
    ]
    assert [name for name, _ in calls] == ["execute.py"]
