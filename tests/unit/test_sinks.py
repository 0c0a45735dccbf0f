"""The child's environment: replacements, precedence, limits and launcher clean-up."""

from __future__ import annotations

import pytest

from injector import plan, sinks
from injector.config import Config
from injector.errors import BadDataError
from injector.secret import Secret


def _env(environ: dict[str, str], values: dict[str, bytes], pairs=(), **kw) -> dict[bytes, bytes]:
    the_plan = plan.build(environ, Config())
    by_ref = {d.reference: Secret(values[d.variable]) for d in the_plan.deliveries}
    return sinks.child_environment(environ, the_plan, by_ref, list(pairs), pristine=False, **kw)


def test_reference_replaced_by_value_bytes_exact() -> None:
    """The value replaces the reference byte for byte, '=' and newlines included."""
    env = _env({"A": "ref+s3://b/k", "P": "/bin"}, {"A": b"x=y=z\n\xc3\xa9 '\""})
    assert env == {b"A": b"x=y=z\n\xc3\xa9 '\"", b"P": b"/bin"}


def test_seed_values_are_trimmed() -> None:
    """The seed convention trims surrounding whitespace, as the seed did."""
    environ = {"CREDENTIALS_PW": "true", "BUCKETSUFFIX": "s"}
    assert _env(environ, {"PW": b"  PRIVATE99\n"}) == {b"PW": b"PRIVATE99"}


def test_existing_and_explicit_win_over_env_file() -> None:
    """Existing variables and explicit references win over env-file pairs."""
    environ = {"A": "ref+s3://b/k", "B": "existing"}
    pairs = [("A", b"file"), ("B", b"file"), ("C", b"file")]
    env = _env(environ, {"A": b"explicit"}, pairs)
    assert env == {b"A": b"explicit", b"B": b"existing", b"C": b"file"}


def test_nul_byte_names_the_variable() -> None:
    """A NUL byte cannot live in an environment: an error naming the variable."""
    with pytest.raises(BadDataError, match="A contains a NUL"):
        _env({"A": "ref+s3://b/k"}, {"A": b"a\x00b"})


def test_oversized_value_suggests_files() -> None:
    """A value above Linux's 128 KiB per-string limit is refused with a hint."""
    with pytest.raises(BadDataError, match="_FILE"):
        _env({"A": "ref+s3://b/k"}, {"A": b"x" * (128 * 1024)})


def test_pristine_starts_empty() -> None:
    """--pristine keeps only the secrets."""
    environ = {"A": "ref+s3://b/k", "HOME": "/root"}
    the_plan = plan.build(environ, Config())
    values = {d.reference: Secret(b"v") for d in the_plan.deliveries}
    assert sinks.child_environment(environ, the_plan, values, [], pristine=True) == {b"A": b"v"}
