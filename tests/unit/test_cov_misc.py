"""Remaining refusals across the core: references, plan, commands, resolve, log, KMS keys."""

from __future__ import annotations

import json

import pytest

from injector import log, plan, references, resolve
from injector.backends import kms
from injector.backends.aws import BadAnswerError
from injector.commands import agent, check, encrypt, put
from injector.config import Config
from injector.deadline import Deadline
from injector.errors import BadDataError, ConfigError, UsageError


@pytest.mark.parametrize(
    ("text", "many", "message"),
    [
        ("ref+s3://b/k?version=1&version_id=2", False, "give version or version_id, not both"),
        ("ref+awsssm://a/?version=1", True, "a path takes only region, recursive"),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db:password::#/x",
            False,
            "give either a json-key field or a '#' pointer, not both",
        ),
    ],
)
def test_reference_refusals(text: str, many: bool, message: str) -> None:
    """Contradictory reference forms are 78 with a message naming the problem."""
    with pytest.raises(ConfigError) as caught:
        references.parse(text, many=many)
    assert caught.value.exit_code == 78
    assert message in str(caught.value)


def test_seed_credentials_without_a_name_is_78() -> None:
    """CREDENTIALS_ with nothing after the prefix is refused."""
    with pytest.raises(ConfigError, match="CREDENTIALS_ needs a name"):
        plan.build({"CREDENTIALS_": "true"}, Config(bucket="b"))


def test_commands_refuse_extra_arguments() -> None:
    """The check command takes no argument and an agent subcommand takes none either (64)."""
    with pytest.raises(UsageError) as caught:
        check.main(Config(), {}, ["extra"])
    assert caught.value.exit_code == 64
    with pytest.raises(UsageError, match="takes no arguments"):
        agent.main(Config(), {}, ["whoami", "extra"])


def test_put_to_ssm_refuses_non_utf8_before_sending() -> None:
    """An SSM parameter holds text: a non-UTF-8 value is 65 and nothing is sent."""
    with pytest.raises(BadDataError) as caught:
        put.store(Config(), references.parse("ref+awsssm://a/b"), b"\xff\xfe", None)
    assert caught.value.exit_code == 65
    assert "not UTF-8" in str(caught.value)


def test_reference_that_cannot_be_planned_fails_every_reference() -> None:
    """A batching refusal (version and label at once) becomes every reference's outcome."""
    refs = [references.parse("ref+awsssm://a?version=1&label=x")]
    outcomes = resolve.resolve_each(refs, Deadline(5), 1)
    assert isinstance(outcomes[refs[0]], ConfigError)


def test_key_region_from_an_arn() -> None:
    """A key ARN names its region; an alias or key id does not."""
    assert encrypt.key_region("arn:aws:kms:eu-west-1:123456789012:key/k") == "eu-west-1"
    assert encrypt.key_region("alias/app") is None


def test_decrypt_answer_above_the_cap_is_refused() -> None:
    """A plaintext above the size cap is refused; an empty one is a bad answer."""
    check_answer = kms._plaintext(3)
    with pytest.raises(BadDataError):
        check_answer({"Plaintext": b"abcd"})
    with pytest.raises(BadAnswerError):
        check_answer({"Plaintext": b""})


def test_registered_secret_scrubbed_inside_nested_fields(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A registered value inside a dict field of an event is replaced by ***."""
    for name in ("level", "fmt", "logger"):
        monkeypatch.setattr(log._State, name, getattr(log._State, name))
    monkeypatch.setattr(log._State, "secrets", set())
    log.configure("debug", "json")
    log.register_secret(b"cov-nested-secret")
    log.info("nested", detail={"inner": "has cov-nested-secret", "n": 1})
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cov-nested-secret" not in line
    assert json.loads(line)["detail"] == {"inner": "has ***", "n": 1}
