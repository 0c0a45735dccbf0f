"""The strict parsers: ASCII numbers only, one boolean word list, a converter for every option."""

from __future__ import annotations

import pytest

from injector import cli, config, parsers, references
from injector.errors import ConfigError, UsageError


def test_every_option_has_a_converter() -> None:
    """Each option carries its converter; flags without a value use the boolean parser."""
    for option in config.OPTIONS:
        assert callable(option.converter), option.flag
        assert (option.converter is parsers.boolean) == (not option.takes_value), option.flag


def test_converter_output_matches_the_config_field_type() -> None:
    """Every converter turns its documented default text into the field's default value."""
    defaults = {
        "timeout": "30",
        "log_level": "info",
        "log_format": "json",
        "env_files": "",
        "bucket": "",
        "max_concurrency": "64",
        "pristine": "off",
        "keep_control_vars": "off",
        "secrets_dir": "",
        "allow_disk": "off",
        "max_secret_bytes": "16777216",
        "file_mode": "0400",
    }
    for option in config.OPTIONS:
        if option.field in defaults:
            got = option.converter(defaults[option.field])
            assert got == getattr(config.Config(), option.field), option.field


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INJECTOR_MAX_CONCURRENCY", "²"),
        ("INJECTOR_MAX_CONCURRENCY", "١٢"),
        ("INJECTOR_MAX_SECRET_BYTES", "1" * 5000),
        ("INJECTOR_FILE_OWNER", "²:0"),
        ("INJECTOR_FILE_OWNER", "0:²"),
        ("INJECTOR_FILE_OWNER", "4294967295:0"),
        ("INJECTOR_FILE_OWNER", "99999999999999999999:0"),
        ("INJECTOR_FILE_MODE", "+400"),
        ("INJECTOR_FILE_MODE", "4_00"),
        ("INJECTOR_FILE_MODE", "0o1000"),
        ("INJECTOR_FILE_MODE", "٤٠٠"),
        ("INJECTOR_FILE_MODE", "-1"),
        ("INJECTOR_TIMEOUT", "nan"),
        ("INJECTOR_TIMEOUT", "inf"),
        ("INJECTOR_TIMEOUT", "1e999"),
        ("INJECTOR_TIMEOUT", "1_0"),
        ("INJECTOR_TIMEOUT", "١٢"),
        ("INJECTOR_TIMEOUT", "-0"),
        ("INJECTOR_PRISTINE", "maybe"),
    ],
)
def test_non_ascii_and_odd_numbers_are_one_line_config_errors(variable: str, value: str) -> None:
    """Unicode digits, signs, underscores, exponents, nan/inf: 78, one line naming the variable."""
    with pytest.raises(ConfigError, match=variable) as caught:
        config.from_environment({variable: value})
    assert caught.value.exit_code == 78
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    "args",
    [
        ["--max-concurrency", "²"],
        ["--timeout", "nan"],
        ["--file-owner", "²:0"],
        ["--file-mode=0o7777"],
        ["--timeout=1e999"],
    ],
)
def test_bad_flag_values_are_usage_errors(args: list[str]) -> None:
    """The same texts given as flags are usage errors (64)."""
    with pytest.raises(UsageError) as caught:
        cli.parse_options(config.Config(), [*args, "true"], {}, interspersed=False)
    assert caught.value.exit_code == 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [(" 7 ", 7), ("0400", 0o400), ("440", 0o440), ("0o640", 0o640), ("0", 0)],
)
def test_accepted_octal_modes(text: str, expected: int) -> None:
    """Modes are 1-4 octal digits, optionally 0o-prefixed, spaces around ignored."""
    assert parsers.mode(text) == expected


def test_accepted_numbers() -> None:
    """Plain ASCII decimals are accepted, within their bounds."""
    assert parsers.integer(" 0016\t", 1, 256) == 16
    assert parsers.seconds("2.5", 10) == 2.5
    assert parsers.seconds(".5", 10) == 0.5
    assert parsers.owner("1000:0") == (1000, 0)


@pytest.mark.parametrize("word", sorted(parsers.TRUE_WORDS | parsers.FALSE_WORDS))
def test_one_boolean_word_list_for_flags_and_optional(word: str) -> None:
    """Every word INJECTOR_PRISTINE accepts, ?optional= accepts too, with the same meaning."""
    for spelled in {word, word.upper()}:
        expected = spelled.lower() in parsers.TRUE_WORDS
        assert config.from_environment({"INJECTOR_PRISTINE": spelled}).pristine is expected
        reference = references.parse(f"ref+s3://bucket/key?optional={spelled}")
        assert reference.optional is expected


def test_optional_on_is_accepted() -> None:
    """``?optional=on`` means optional, as INJECTOR_PRISTINE=on means pristine."""
    assert references.parse("ref+awsssm://p?optional=on").optional


def test_bad_optional_word_names_the_reference() -> None:
    """A word outside the list is 78 naming the reference."""
    with pytest.raises(ConfigError, match="optional") as caught:
        references.parse("ref+awsssm://p?optional=maybe")
    assert caught.value.reference == "ref+awsssm://p?optional=maybe"
