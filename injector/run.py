"""The exec pipeline: plan, check the target, prepare (fetch and validate), deliver, exec."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NoReturn

from injector import execute, hardening, launchers, log, plan, sinks
from injector.deadline import Deadline
from injector.prepare import Prepared

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from injector.config import Config

NOTHING = Prepared({}, {}, {}, frozenset())


def run(config: Config, command: Sequence[str], environ: Mapping[str, str]) -> NoReturn:
    """Resolve every secret the environment asks for, then exec *command*."""
    started = time.monotonic()
    environ = launchers.cleanup(environ)
    if config.agent:
        from injector.agent.client import run as agent_run  # noqa: PLC0415 - agent mode only

        agent_run(config, command, environ)
    the_plan = plan.build(environ, config)
    executable = locate(command, environ, the_plan.drop, config)
    if not the_plan:
        deliver(NOTHING._replace(drop=the_plan.drop), environ, config, command, executable)
    if any(d.to_file for d in the_plan.deliveries) or any(i.to_file for i in the_plan.inline):
        from injector import files  # noqa: PLC0415 - only when a *_FILE delivery needs it

        files.preflight(config)
    from injector.prepare import prepare  # noqa: PLC0415

    prepared = prepare(the_plan, config, Deadline(config.timeout))
    log.debug(  # debug: a successful start writes nothing, and skips structlog's import
        "secrets_injected",
        variables=len(prepared.env) + len(prepared.expanded),
        files=len(prepared.files),
        target=command[0],
        ms=round((time.monotonic() - started) * 1000, 1),
    )
    deliver(prepared, environ, config, command, executable)


def locate(
    command: Sequence[str], environ: Mapping[str, str], drop: frozenset[str], config: Config
) -> str:
    """Find the target before anything is fetched, on the PATH the child will have."""
    path = environ.get("PATH") if config.pristine or "PATH" not in drop else None
    return execute.locate(command[0], path)


def deliver(
    prepared: Prepared,
    environ: Mapping[str, str],
    config: Config,
    command: Sequence[str],
    executable: str,
) -> NoReturn:
    """Write the files, build the child's environment and exec: the one delivery path."""
    written = None
    if prepared.files:
        from injector import files  # noqa: PLC0415 - only when a *_FILE delivery needs it

        written = files.deliver(prepared.files, config)
    try:
        paths = written.paths if written is not None else None
        env = sinks.child_environment(environ, prepared, pristine=config.pristine, files=paths)
        execute.exec_target(executable, list(command), env, before=hardening.release)
    except BaseException:
        if written is not None:
            written.remove()  # never leave secret files behind for a target that did not start
        raise
