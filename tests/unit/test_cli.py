"""The command-line contract: options, subcommands, the entrypoint and the seed name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from injector import cli
from injector.config import Config
from injector.errors import ConfigError, UsageError


def _parse(*args: str, interspersed: bool = False):
    return cli.parse_options(Config(), list(args), {}, interspersed=interspersed)


def test_options_stop_at_first_command_word() -> None:
    """Parsing stops at the first non-option, so the target's own flags pass through."""
    config, _, rest = _parse("--timeout", "5", "sh", "-c", "echo --timeout")
    assert config.timeout == 5
    assert rest == ["sh", "-c", "echo --timeout"]


def test_double_dash_ends_options() -> None:
    """'--' ends options; what follows is the command even if it looks like one."""
    _, _, rest = _parse("--pristine", "--", "--weird", "x")
    assert rest == ["--weird", "x"]


def test_inline_values_and_flags() -> None:
    """--name=value and bare flags both work."""
    config, _, _ = _parse("--log-level=debug", "--pristine", "true")
    assert (config.log_level, config.pristine) == ("debug", True)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--nope", "x"], "unknown option"), (["--timeout"], "needs a value"),
     (["--pristine=yes", "x"], "takes no value"), (["--timeout", "abc", "x"], "number")],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    """Bad options are usage errors (exit 64)."""
    with pytest.raises(UsageError, match=message) as caught:
        _parse(*args)
    assert caught.value.exit_code == 64


def test_help_and_version_requests() -> None:
    """-h and --version stop parsing and are reported as such."""
    assert _parse("-h")[2] is None
    assert _parse("--version")[1] == {"--version": None}


def test_entrypoint_from_environment() -> None:
    """INJECTOR_ENTRYPOINT takes every argument; it must be absolute."""
    assert cli._entrypoint(["injector", "-x"], {"INJECTOR_ENTRYPOINT": "/bin/app"}) == "/bin/app"
    with pytest.raises(ConfigError):
        cli._entrypoint(["injector"], {"INJECTOR_ENTRYPOINT": "app"})


def test_seed_name_defaults_entrypoint() -> None:
    """Invoked as secret_squirrel*, the entrypoint defaults to /bin/dockerstart."""
    assert cli._entrypoint(["/sbin/secret_squirrel_s3"], {}) == "/bin/dockerstart"
    assert cli._entrypoint(["/sbin/injector"], {}) is None


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without COMMAND or entrypoint, main exits 64 and writes nothing on stdout."""
    assert cli.main(["injector"]) == 64
    assert capsys.readouterr().out == ""


def test_dash_dash_check_runs_a_program_named_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the first word is a subcommand; after '--' it is a program name."""
    monkeypatch.setenv("PATH", "/nonexistent")
    assert cli.main(["injector", "--", "check"]) == 127


def test_config_errors_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad INJECTOR_* variable is a configuration error (78)."""
    monkeypatch.setenv("INJECTOR_TIMEOUT", "soon")
    assert cli.main(["injector", "true"]) == 78


def test_unreachable_saved_cwd_fails_closed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A working directory the launchers handed over but that is gone: exit 70, no exec."""
    from injector import launchers, log

    log.configure("info", "json")  # a fresh logger writes to this test's captured stderr
    monkeypatch.setenv(launchers.CWD_SAVED, str(tmp_path / "gone"))
    assert cli.main(["injector", "version"]) == 70
    assert "cannot return to the working directory" in capsys.readouterr().err
    assert launchers.CWD_SAVED not in os.environ
