"""Configuration from INJECTOR_* variables and the exit-code table."""

from __future__ import annotations

import pytest

from injector import config, errors


def test_defaults() -> None:
    """With nothing set, the documented defaults apply."""
    c = config.from_environment({})
    assert (c.timeout, c.log_level, c.log_format, c.max_concurrency) == (30.0, "info", "json", 64)


def test_every_option_has_a_variable() -> None:
    """Each option maps to an INJECTOR_* variable of its own."""
    variables = [o.variable for o in config.OPTIONS]
    assert all(v.startswith("INJECTOR_") for v in variables)
    assert len(set(variables)) == len(variables)


def test_values_from_environment() -> None:
    """Variables are converted and validated."""
    c = config.from_environment(
        {
            "INJECTOR_TIMEOUT": "2.5",
            "INJECTOR_LOG_LEVEL": "WARN",
            "INJECTOR_PRISTINE": "yes",
            "INJECTOR_ENV_FILES": "ref+s3://a/b  ref+s3://c/d",
            "INJECTOR_FILE_MODE": "0440",
            "INJECTOR_FILE_OWNER": "1000:1000",
        }
    )
    assert c.timeout == 2.5
    assert c.log_level == "warning"
    assert c.pristine
    assert c.env_files == ("ref+s3://a/b", "ref+s3://c/d")
    assert (c.file_mode, c.file_owner) == (0o440, (1000, 1000))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INJECTOR_TIMEOUT", "-1"),
        ("INJECTOR_LOG_FORMAT", "xml"),
        ("INJECTOR_PRISTINE", "maybe"),
        ("INJECTOR_MAX_CONCURRENCY", "0"),
        ("INJECTOR_FILE_OWNER", "root"),
    ],
)
def test_bad_values_are_config_errors(name: str, value: str) -> None:
    """A bad variable is a config error naming the variable."""
    with pytest.raises(errors.ConfigError, match=name):
        config.from_environment({name: value})


def test_exit_code_table() -> None:
    """The documented exit codes are the ones the error classes carry."""
    assert {cls.__name__: code for cls, code in errors.EXIT_CODES.items()} == {
        "UsageError": 64,
        "BadDataError": 65,
        "SecretNotFoundError": 66,
        "UnavailableError": 69,
        "OutputError": 74,
        "AccessDeniedError": 77,
        "ConfigError": 78,
        "TargetNotExecutableError": 126,
        "TargetNotFoundError": 127,
    }
