"""The one preparation step: rows, validation and precedence, with the fetch replaced."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from injector import plan, prepare
from injector.config import Config
from injector.deadline import Deadline
from injector.errors import BadDataError, InjectorError, SecretNotFoundError
from injector.secret import Secret

if TYPE_CHECKING:
    from injector.references import Reference


def _fake_resolve(monkeypatch: pytest.MonkeyPatch, by_text: dict[str, object]) -> None:
    """Answer every reference from *by_text* (bytes, an InjectorError, or None)."""

    def resolve_each(refs: list[Reference], _deadline: Deadline, _workers: int) -> dict:
        answers = {}
        for ref in refs:
            value = by_text[ref.text]
            answers[ref] = Secret(value) if isinstance(value, bytes) else value
        return answers

    monkeypatch.setattr("injector.resolve.resolve_each", resolve_each)


def _prepare(
    environ: dict[str, str], *, collect: bool = False, **config: object
) -> prepare.Prepared:
    settings = Config()._replace(**config)
    return prepare.prepare(plan.build(environ, settings), settings, Deadline(5), collect=collect)


def test_explicit_file_and_env_file_values_land_in_their_places(monkeypatch) -> None:
    """Explicit references go to env, *_FILE ones to files, env-file pairs to expanded."""
    _fake_resolve(
        monkeypatch, {"ref+s3://b/a": b"va", "ref+s3://b/k": b"key", "ref+s3://b/e": b"X=1\n"}
    )
    prepared = _prepare(
        {"A": "ref+s3://b/a", "K_FILE": "ref+s3://b/k"}, env_files=("ref+s3://b/e",)
    )
    assert prepared.env == {"A": Secret(b"va")}
    assert prepared.files == {"K_FILE": Secret(b"key")}
    assert prepared.expanded == {"X": Secret(b"1")}
    assert [row.status for row in prepared.rows] == [
        "ok",
        "ok",
        "ok (1 variables)",
        "ok (env-file)",
    ]
    assert prepared.exit_code == 0


def test_collect_keeps_every_failure_in_its_row(monkeypatch) -> None:
    """With collect, a missing secret and a NUL are rows with exec's exit codes; nothing raises."""
    gone = SecretNotFoundError("not found")
    _fake_resolve(monkeypatch, {"ref+s3://b/g": gone, "ref+s3://b/n": b"a\x00b"})
    prepared = _prepare({"G": "ref+s3://b/g", "N": "ref+s3://b/n"}, collect=True)
    codes = {row.variable: row.exit_code for row in prepared.rows}
    assert codes == {"G": 66, "N": 65}
    assert prepared.exit_code == 66
    assert all(row.error for row in prepared.rows)


def test_without_collect_the_first_failure_is_raised(monkeypatch) -> None:
    """Exec's mode raises the first failure in plan order, naming its reference."""
    _fake_resolve(monkeypatch, {"ref+s3://b/1": b"ok", "ref+s3://b/2": SecretNotFoundError("gone")})
    with pytest.raises(SecretNotFoundError) as caught:
        _prepare({"ONE": "ref+s3://b/1", "TWO": "ref+s3://b/2"})
    assert caught.value.reference == "ref+s3://b/2"


def test_optional_missing_secret_is_a_row_not_a_value(monkeypatch) -> None:
    """An optional secret the store does not have is reported and delivered as nothing."""
    _fake_resolve(monkeypatch, {"ref+s3://b/m?optional=true": None})
    prepared = _prepare({"M": "ref+s3://b/m?optional=true"})
    assert prepared.env == {}
    assert prepared.rows[0].status == prepare.MISSING


def test_seed_values_are_trimmed(monkeypatch) -> None:
    """CREDENTIALS_* values lose surrounding whitespace (seed 000)."""
    _fake_resolve(monkeypatch, {"ref+s3://my-secrets-bucket-s/DB": b"  pw\n"})
    prepared = _prepare({"CREDENTIALS_DB": "true", "BUCKETSUFFIX": "s"})
    assert prepared.env == {"DB": Secret(b"pw")}


def test_env_file_above_the_cap_and_a_bad_env_file_fail_their_row(monkeypatch) -> None:
    """An env-file over the cap or not dotenv is 65 in its row, without its content."""
    _fake_resolve(
        monkeypatch, {"ref+s3://b/big": b"A=" + b"x" * 100, "ref+s3://b/bad": b"hunter2\n"}
    )
    prepared = _prepare({}, collect=True, env_files=("ref+s3://b/big", "ref+s3://b/bad"),
                        max_secret_bytes=50)  # fmt: skip
    assert [row.exit_code for row in prepared.rows] == [65, 65]
    assert "hunter2" not in repr(prepared.rows)


def test_nothing_to_fetch_is_an_empty_prepared() -> None:
    """A plan without references gives an empty result and does not import the backends."""
    prepared = _prepare({"HOME": "/root"})
    assert (prepared.env, prepared.files, prepared.expanded, prepared.rows) == ({}, {}, {}, ())


@pytest.mark.parametrize(
    ("name", "value"),
    [("", b"v"), ("A=B", b"v"), ("N", b"a\x00b"), ("BIG", b"x" * (128 * 1024))],
)
def test_check_env_refuses_what_an_environment_cannot_hold(name: str, value: bytes) -> None:
    """Empty names, '=' in a name, NUL in a value and strings above 128 KiB are 65."""
    with pytest.raises(BadDataError):
        prepare.check_env(name, value, reference=None)


def test_validate_applies_the_same_checks_to_a_received_bundle() -> None:
    """A Prepared from elsewhere (the agent's answer) is checked like a fetched one."""
    good = prepare.Prepared(
        {"A": Secret(b"v")}, {"B": Secret(b"w")}, {"K_FILE": Secret(b"k")}, frozenset()
    )
    assert prepare.validate(good) is good
    for bad in (
        good._replace(env={"A": Secret(b"a\x00")}),
        good._replace(expanded={"=": Secret(b"v")}),
        good._replace(files={"../x_FILE": Secret(b"k")}),
    ):
        with pytest.raises(InjectorError):
            prepare.validate(bad)
