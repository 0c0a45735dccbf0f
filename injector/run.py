"""The exec pipeline: plan, check the target, fetch, build the environment, exec."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, NoReturn

from injector import envfile, execute, launchers, log, plan, sinks
from injector.deadline import Deadline

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import ModuleType

    from injector.config import Config
    from injector.references import Reference
    from injector.secret import Secret


def run(config: Config, command: Sequence[str], environ: Mapping[str, str]) -> NoReturn:
    """Resolve every secret the environment asks for, then exec *command*."""
    started = time.monotonic()
    deadline = Deadline(config.timeout)
    environ = launchers.cleanup(environ)
    if config.agent:
        from injector.agent.client import run as agent_run  # noqa: PLC0415 - agent mode only

        agent_run(config, command, environ)
    the_plan = plan.build(environ, config)
    lookup_path = environ.get("PATH") if config.pristine else _child_path(environ, the_plan)
    executable = execute.locate(command[0], lookup_path)
    if not the_plan:
        env = sinks.child_environment(environ, the_plan, {}, [], pristine=config.pristine)
        execute.exec_target(executable, list(command), env)
    files = _files_module(the_plan)
    if files is not None:
        files.preflight(config)
    values, pairs, release = _fetch(the_plan, deadline, config)
    written = files.deliver(the_plan, values, config) if files is not None else _NO_FILES
    try:
        env = sinks.child_environment(
            environ, the_plan, values, pairs, pristine=config.pristine, files=written.paths
        )
        _log_injected(values, pairs, len(written.paths), command[0], started)
        execute.exec_target(executable, list(command), env, before=release)
    except BaseException:
        written.remove()  # never leave secret files behind for a target that did not start
        raise


class _NoFiles:
    paths: Mapping[str, str] = {}

    def remove(self) -> None:
        """Nothing was written."""


_NO_FILES = _NoFiles()


def _files_module(the_plan: plan.Plan) -> ModuleType | None:
    """Import the file sink only when a *_FILE delivery needs it (it costs start time)."""
    if not any(d.to_file for d in the_plan.deliveries):
        return None
    from injector import files  # noqa: PLC0415

    return files


def _log_injected(
    values: Mapping[Reference, Secret | None],
    pairs: list[tuple[str, bytes]],
    file_count: int,
    target: str,
    started: float,
) -> None:
    log.debug(  # debug: a successful start writes nothing, and skips structlog's import
        "secrets_injected",
        variables=sum(v is not None for v in values.values()),
        env_file_pairs=len(pairs),
        files=file_count,
        target=target,
        ms=round((time.monotonic() - started) * 1000, 1),
    )


def _child_path(environ: Mapping[str, str], the_plan: plan.Plan) -> str | None:
    if "PATH" in the_plan.drop:
        return None
    return environ.get("PATH")


def _fetch(
    the_plan: plan.Plan, deadline: Deadline, config: Config
) -> tuple[dict[Reference, Secret | None], list[tuple[str, bytes]], Callable[[], None]]:
    from injector.hardening import Protection  # noqa: PLC0415 - only when fetching
    from injector.resolve import resolve  # noqa: PLC0415 - imports botocore

    protection = Protection()
    references = the_plan.references()
    log.debug("resolving", references=[str(r) for r in references], pid=os.getpid())
    values = resolve(references, deadline, config.max_concurrency)
    pairs: list[tuple[str, bytes]] = []
    for reference in the_plan.env_files:
        secret = values.get(reference)
        if secret is not None:
            found = envfile.parse(secret.reveal(), reference=str(reference))
            for _, value in found:
                log.register_secret(value)
            pairs.extend(found)
    return values, pairs, protection.release
