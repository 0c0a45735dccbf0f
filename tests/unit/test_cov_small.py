"""Small core modules' remaining paths: Secret, sinks, compat, hardening, encrypt's reference."""

from __future__ import annotations

import ctypes
import pickle

import pytest

from injector import compat, hardening, sinks
from injector.commands import encrypt
from injector.config import Config
from injector.errors import ConfigError, UsageError
from injector.prepare import Prepared
from injector.references import parse
from injector.secret import Secret


def test_secret_hashes_by_value_and_refuses_pickle() -> None:
    """Equal secrets hash alike and are set members; pickling one is a TypeError."""
    assert len({Secret(b"cov-a"), Secret(b"cov-a"), Secret(b"cov-b")}) == 2
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(b"cov-a"))


def test_file_variable_without_its_path_is_refused() -> None:
    """A *_FILE secret whose file was not written never reaches the environment (78)."""
    prepared = Prepared({}, {}, {"KEY_FILE": Secret(b"cov-value")}, frozenset())
    with pytest.raises(ConfigError) as caught:
        sinks.child_environment({}, prepared, pristine=False)
    assert str(caught.value) == "the secret file for KEY_FILE was not written"


def test_file_variable_holds_its_path() -> None:
    """A written *_FILE secret is delivered as its path, never its value."""
    prepared = Prepared({}, {}, {"KEY_FILE": Secret(b"cov-value")}, frozenset())
    env = sinks.child_environment({}, prepared, pristine=True, files={"KEY_FILE": "/run/s/KEY"})
    assert env == {b"KEY_FILE": b"/run/s/KEY"}


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("arn:aws:ssm:us-east-1:123456789012:parameter/x", None),
        ("ref+awsssm://a b", "vals does not read this text as an expression"),
        ("ref+awsssm://plain/name", None),
    ],
)
def test_compat_differences(text: str, warning: str | None) -> None:
    """ARNs are not vals text; text vals would leave literal is flagged; plain names are not."""
    found = compat.differs(parse(text))
    if warning is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(warning)


def test_protect_without_prctl_reports_false(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a usable libc, protect still lowers the core limit and says prctl failed."""

    def no_libc(*_args: object, **_kwargs: object) -> None:
        raise OSError("no libc")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    monkeypatch.setattr(hardening._State, "core", None)
    monkeypatch.setattr(hardening._State, "dumpable_off", False)
    import resource

    before = resource.getrlimit(resource.RLIMIT_CORE)
    try:
        assert hardening.protect() is False
        assert resource.getrlimit(resource.RLIMIT_CORE)[0] == 0
    finally:
        hardening.release()
    assert resource.getrlimit(resource.RLIMIT_CORE) == before


def test_encrypt_reference_forms() -> None:
    """The reference has no query without context or region, and both when given."""
    assert encrypt.reference(b"\x01\x02", {}) == "ref+awskms://AQI="
    assert encrypt.reference(b"\x01", {"b": "2", "a": "1"}, "eu-west-1") == (
        "ref+awskms://AQ==?context=%7B%22a%22%3A%221%22%2C%22b%22%3A%222%22%7D&region=eu-west-1"
    )


def test_encrypt_usage_errors() -> None:
    """Arguments, a missing key and a bad --context are usage errors (64) before any read."""
    cases = [
        ({"--kms-key-id": "k"}, ["extra"]),
        ({}, []),
        ({"--kms-key-id": "k", "--context": "not json"}, []),
    ]
    for flags, args in cases:
        with pytest.raises(UsageError) as caught:
            encrypt.main(Config(), flags, args)
        assert caught.value.exit_code == 64
    with pytest.raises(UsageError, match=r"^--context: "):
        encrypt.parse_context("[1]")
