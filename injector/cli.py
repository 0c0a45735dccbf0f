"""Command line: ``injector [OPTIONS] [--] COMMAND [ARG...]`` and the reserved subcommands."""

from __future__ import annotations

import errno
import gc
import importlib
import io
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from injector import config as settings
from injector import launchers, log
from injector.errors import SOFTWARE, ConfigError, InjectorError, OutputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from _typeshed import ReadableBuffer

    from injector.config import Config

RESERVED = ("exec", "check", "put", "encrypt", "copy", "scan", "agent", "version", "help")
# Commands that hold a secret value: core dumps off and not dumpable before the first byte.
HOLDS_VALUES = frozenset({"check", "put", "encrypt", "scan", "agent"})
# Commands that may run for long or read much: the cyclic collector, off for a start
# (injector/__main__.py), is back on for them.
LONG_RUNNING = frozenset({"scan", "agent"})
SEED_NAME = "secret_squirrel"
SEED_ENTRYPOINT = "/bin/dockerstart"
USAGE = """\
usage: injector [OPTIONS] [--] COMMAND [ARG...]
       injector exec [OPTIONS] [--] COMMAND [ARG...]
       injector check [--json] [--env-file PATH]
       injector put REFERENCE [--kms-key-id KEY | --no-kms] [--from-file PATH]
       injector encrypt --kms-key-id KEY [--context JSON]
       injector copy DEST
       injector scan TARGET [--format text|json|sarif] [--fail-on LEVEL] [--policy FILE]
                    [--known-from FILE] [--baseline FILE] [--write-baseline FILE] ...
       injector agent serve|check-config|doctor [--config PATH|REFERENCE] [--json]
       injector agent whoami   (in a container: what the host agent sees)
       injector version | help

Fetches the secrets that environment variables refer to (ref+s3://, ref+awsssm://,
ref+awssecrets://, ref+awskms://, SSM/Secrets Manager ARNs, CREDENTIALS_<NAME>=true,
INJECTOR_ENV_FILES), then execs COMMAND with them in its environment.
Options stop at the first word that is not an option. Every option has a variable:
"""


def entry() -> NoReturn:
    """Run with sys.argv and leave at once, without waiting for worker threads."""
    _standard_streams()
    code = main(sys.argv)
    try:
        sys.stdout.flush()
    except OutputError as err:
        _report(err)
        code = code or err.exit_code
    sys.stderr.flush()
    os._exit(code)


class _Output(io.RawIOBase):
    """Fd 1 or 2 under Python's text streams, failing cleanly.

    A write to a closed or broken stdout raises OutputError once; after that, and on stderr
    always, failed writes are dropped: there is nobody left to tell.
    """

    def __init__(self, fd: int, *, closed: bool) -> None:
        super().__init__()
        self.fd = fd
        self.problem = "stdout is closed" if closed else None
        self.dropping = False

    def writable(self) -> bool:
        """Say yes: this is an output."""
        return True

    def write(self, data: ReadableBuffer) -> int:
        """Write to the fd; on failure raise OutputError (stdout, once) or drop the data."""
        size = len(memoryview(data))
        if self.dropping:
            return size
        if self.problem is None:
            try:
                return os.write(self.fd, data)
            except OSError as exc:
                reason = "the reader went away" if exc.errno == errno.EPIPE else exc.strerror
                self.problem = f"cannot write to stdout: {reason}"
        self.dropping = True
        if self.fd == 1:
            raise OutputError(self.problem)
        return size


def _standard_streams() -> None:
    """Make closed or broken standard streams clean failures, never tracebacks.

    Fds 0-2 that the caller closed are held open on /dev/null (close-on-exec, so the
    program still finds them closed), so that no file or socket of injector's lands there.
    """
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
            os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)  # takes the lowest free fd: *fd*
    for fd, name in ((1, "stdout"), (2, "stderr")):
        raw = _Output(fd, closed=fd in closed)
        writer = io.BufferedWriter(raw)
        stream = io.TextIOWrapper(writer, encoding="utf-8", errors="backslashreplace")
        setattr(sys, name, stream)


def main(argv: Sequence[str]) -> int:
    """Run injector; returns an exit code only when it does not exec."""
    try:
        _restore_cwd()
        return _main(argv, os.environ)
    except InjectorError as err:
        _report(err)
        return err.exit_code
    except Exception as exc:  # noqa: BLE001 - last resort: report without locals, exit 70
        import traceback  # noqa: PLC0415 - only on this path

        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        log.error("internal_error", error=type(exc).__name__, traceback="".join(lines))
        return SOFTWARE


def _restore_cwd() -> None:
    """First of all: back to the caller's working directory (the launchers are in "/")."""
    try:
        launchers.restore_cwd(os.environ)
    except OSError as err:
        msg = f"cannot return to the working directory {err.filename}: {err.strerror}"
        raise InjectorError(msg) from None


def _report(err: InjectorError) -> None:
    fields: dict[str, object] = {"error": err.message, "kind": err.kind, "exit_code": err.exit_code}
    if err.reference:
        fields["reference"] = err.reference
    if isinstance(err, UsageError):
        fields["hint"] = "see injector --help"
    log.error("failed", **fields)


def _main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    config = settings.from_environment(environ)
    log.configure(config.log_level, config.log_format)
    entrypoint = _entrypoint(argv, environ)
    if entrypoint is not None:
        return _exec(config, [entrypoint, *argv[1:]], environ)
    args = list(argv[1:])
    command = args.pop(0) if args and args[0] in RESERVED else "exec"
    if command in {"help", "version"}:
        return _help() if command == "help" else _version()
    return _dispatch(config, command, args, environ)


def _dispatch(config: Config, command: str, args: list[str], environ: Mapping[str, str]) -> int:
    if command == "exec":
        config, flags, rest = parse_options(config, args, {}, interspersed=False)
        if rest is None:
            return _version() if "--version" in flags else _help()
        if not rest:
            raise UsageError("no COMMAND given (and INJECTOR_ENTRYPOINT is not set)")
        return _exec(config, rest, environ)
    if command in HOLDS_VALUES:
        from injector import hardening  # noqa: PLC0415 - only for commands that hold values

        hardening.protect()
    if command in LONG_RUNNING:
        gc.enable()
    module = importlib.import_module(f"injector.commands.{command}")
    config, flags, rest = parse_options(config, args, module.FLAGS, interspersed=True)
    if rest is None:
        return _version() if "--version" in flags else _help()
    log.configure(config.log_level, config.log_format)
    code: int = module.main(config, flags, rest)
    return code


def _entrypoint(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    entrypoint = environ.get("INJECTOR_ENTRYPOINT", "")
    invoked = launchers.invoked_name(argv, environ)
    if not entrypoint and os.path.basename(invoked).startswith(SEED_NAME):
        entrypoint = SEED_ENTRYPOINT
    if not entrypoint:
        return None
    if not entrypoint.startswith("/"):
        raise ConfigError("INJECTOR_ENTRYPOINT must be an absolute path")
    return entrypoint


def _exec(config: Config, command: list[str], environ: Mapping[str, str]) -> int:
    from injector.run import run  # noqa: PLC0415 - keeps help/version light

    log.configure(config.log_level, config.log_format)
    run(config, command, environ)


def _version() -> int:
    from injector.buildinfo import describe  # noqa: PLC0415

    log.write_stdout("\n".join(describe()) + "\n")
    return 0


def _help() -> int:
    rows = [
        f"  {o.flag + (' VALUE' if o.takes_value else ''):<26} {o.variable:<28} {o.help}"
        for o in settings.OPTIONS
    ]
    log.write_stdout(USAGE + "\n".join(rows) + "\n  --version, -h/--help\n")
    return 0


def parse_options(
    config: Config,
    args: list[str],
    extra: Mapping[str, bool],
    *,
    interspersed: bool,
) -> tuple[Config, dict[str, str | None], list[str] | None]:
    """Parse options from *args*: (config, extra flags, positional words).

    Positional is None when help was asked for; the flags then hold ``--version``
    if that was asked for instead. Without *interspersed*, parsing stops at the
    first word that is not an option (like getopt's ``+``).
    """
    flags: dict[str, str | None] = {}
    positional: list[str] = []
    queue = list(args)
    while queue:
        word = queue.pop(0)
        if word == "--":
            positional.extend(queue)
            break
        if not word.startswith("-") or word == "-":
            positional.append(word)
            if not interspersed:
                positional.extend(queue)
                break
            continue
        if word in {"-h", "--help", "--version"}:
            return config, {word: None}, None
        config = _one_option(config, word, queue, extra, flags)
    return config, flags, positional


def _one_option(
    config: Config,
    word: str,
    queue: list[str],
    extra: Mapping[str, bool],
    flags: dict[str, str | None],
) -> Config:
    name, equals, inline = word.partition("=")
    option = settings.BY_FLAG.get(name)
    takes_value = option.takes_value if option else extra.get(name)
    if takes_value is None:
        raise UsageError(f"unknown option {name!r}")
    value: str | None = None
    if takes_value:
        if equals:
            value = inline
        elif queue:
            value = queue.pop(0)
        else:
            raise UsageError(f"option {name} needs a value")
    elif equals:
        raise UsageError(f"option {name} takes no value")
    if option is None:
        flags[name] = value
        return config
    return settings.apply(config, option, value, name)
