"""Reference grammar: every accepted form and every rejection."""

from __future__ import annotations

import pytest

from injector.errors import ConfigError
from injector.references import Source, display, is_reference, parse


def test_s3_plain() -> None:
    """A bare S3 reference names the bucket and the key."""
    ref = parse("ref+s3://bucket/path/to/key")
    assert ref.source == Source("s3", "bucket/path/to/key")
    assert ref.pointer is None
    assert not ref.optional


def test_s3_params_pointer_optional() -> None:
    """Region, version and optional are taken from the query, the pointer from the fragment."""
    ref = parse("ref+s3://b/k?region=eu-west-1&version_id=v1&optional=true#/a/b")
    assert ref.source == Source("s3", "b/k", "eu-west-1", (("version_id", "v1"),))
    assert ref.pointer == "/a/b"
    assert ref.optional


def test_s3_key_is_percent_decoded() -> None:
    """Keys are URL-decoded like vals does, so '%20' is a space."""
    assert parse("ref+s3://b/my%20key").source.name == "b/my key"


@pytest.mark.parametrize("text", ["ref+s3://bucket", "ref+s3://bucket/", "ref+s3:///key"])
def test_s3_needs_bucket_and_key(text: str) -> None:
    """An S3 reference without both a bucket and a key is a config error."""
    with pytest.raises(ConfigError, match="BUCKET/KEY"):
        parse(text)


def test_ssm_path_gets_leading_slash() -> None:
    """ref+awsssm://PATH names the parameter /PATH."""
    assert parse("ref+awsssm://prod/db/password").source.name == "/prod/db/password"


def test_secrets_manager_name_and_options() -> None:
    """Secrets Manager references keep version stage and id as options."""
    ref = parse("ref+awssecrets://prod/api?version_stage=AWSPREVIOUS")
    assert ref.source.service == "secretsmanager"
    assert ref.source.option("version_stage") == "AWSPREVIOUS"


def test_kms_ciphertext_keeps_slashes_and_plus() -> None:
    """Base64 ciphertext with '/', '+' and '=' survives as the name."""
    ref = parse("ref+awskms://AQI/CA+Hg==?context=%7B%22a%22%3A%22b%22%7D")
    assert ref.source.name == "AQI/CA+Hg=="
    assert ref.source.option("context") == '{"a":"b"}'


def test_ssm_arn_is_kept_whole() -> None:
    """An SSM parameter ARN stays the whole ARN (it may be another account's) with its region."""
    arn = "arn:aws:ssm:eu-west-1:999999999999:parameter/prod/db"
    assert parse(arn).source == Source("ssm", arn, "eu-west-1")
    assert parse("arn:aws:ssm:us-east-1:1:parameter/plain").source.name.endswith("/plain")


@pytest.mark.parametrize("text", ["ref+s3://b/%ff", "ref+awsssm://a%c3", "ref+awssecrets://%80x"])
def test_names_not_utf8_after_percent_decoding_are_refused(text) -> None:
    """%ff is refused (78), never turned into U+FFFD, which would fetch another object."""
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        parse(text)


def test_secret_arn_with_ecs_fields() -> None:
    """The ECS valueFrom form splits json-key, stage and version by position."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    ref = parse(f"{arn}:password:AWSCURRENT:")
    assert ref.source.name == arn
    assert ref.source.region == "us-east-1"
    assert ref.pointer == "/password"
    assert ref.source.option("version_stage") == "AWSCURRENT"
    assert ref.source.option("version_id") is None


def test_secret_arn_plain() -> None:
    """A bare secret ARN fetches the whole secret."""
    ref = parse("arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf")
    assert ref.pointer is None
    assert ref.source.options == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ref+vault://x", "unknown scheme"),
        ("ref+s3://b/k?colour=red", "unsupported parameter"),
        ("ref+s3://b/k?region=a&region=b", "given twice"),
        ("ref+s3://b/k?optional=maybe", "optional must be"),
        ("ref+s3://b/k#a/b", "must start with '/'"),
        ("ref+awsssm://", "names nothing"),
        ("ref+nothing", "not a reference"),
        ("arn:aws:secretsmanager:us-east-1:1:secret:", "secret:NAME"),
    ],
)
def test_rejections_name_the_reference(text: str, message: str) -> None:
    """Every malformed reference is a config error that names it and the cause."""
    with pytest.raises(ConfigError, match=message) as caught:
        parse(text)
    assert caught.value.reference == display(text)
    assert caught.value.exit_code == 78


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ref+s3://b/k", True),
        ("arn:aws:ssm:us-east-1:1:parameter/x", True),
        ("arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x", True),
        ("arn:aws:iam::123:role/app", False),
        ("plain value", False),
        ("", False),
    ],
)
def test_is_reference(value: str, expected: bool) -> None:
    """Only ref+ values and SSM/secret ARNs are references; other ARNs are left alone."""
    assert is_reference(value) is expected


def test_display_shortens_long_ciphertexts() -> None:
    """Long references are shortened in messages, with their length."""
    text = "ref+awskms://" + "A" * 400
    shown = display(text)
    assert len(shown) < 120
    assert "413 chars" in shown
