"""The one preparation step: plan -> resolve -> parse env-files -> validate every delivery.

``exec`` delivers what it returns, ``check`` renders it, and the host agent serves it: no
command has rules of its own about what may be delivered. Whatever holds a value is guarded
(no core dump, not dumpable) before the first byte arrives.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from injector import envfile, hardening, log
from injector.errors import BadDataError, InjectorError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from injector.config import Config
    from injector.deadline import Deadline
    from injector.expand import EnvFrom
    from injector.inline import Inline
    from injector.plan import Delivery, Plan
    from injector.references import Reference
    from injector.secret import Secret

# Linux refuses any single "NAME=value" string longer than this (MAX_ARG_STRLEN).
MAX_ENV_STRING = 128 * 1024
ENV_FILE_ROW = "(env-file)"
MISSING = "missing (optional)"


class Row(NamedTuple):
    """One line of a report: a variable, where its value comes from, and how that went."""

    variable: str
    store: str
    reference: str
    size: int | None
    status: str
    exit_code: int = 0
    error: str | None = None


class Prepared(NamedTuple):
    """Everything a start delivers, validated, and the report of how each part went."""

    env: dict[str, Secret]
    expanded: dict[str, Secret]
    files: dict[str, Secret]
    drop: frozenset[str]
    rows: tuple[Row, ...] = ()

    @property
    def exit_code(self) -> int:
        """Return the first failing row's exit code, or 0."""
        return next((row.exit_code for row in self.rows if row.exit_code), 0)


def prepare(
    the_plan: Plan, config: Config, deadline: Deadline, *, collect: bool = False
) -> Prepared:
    """Fetch and validate everything *the_plan* asks for.

    Without *collect*, the first failure (in plan order) is raised after every other one is
    logged; with it, failures are kept in the rows and nothing is raised for a secret.
    """
    hardening.protect()
    outcomes = _resolve(the_plan, config, deadline)
    builder = _Builder(the_plan, config, deadline)
    for delivery in the_plan.deliveries:
        builder.delivery(delivery, outcomes[delivery.reference])
    for item in the_plan.inline:
        builder.inline(item, outcomes)
    for reference in the_plan.env_files:
        builder.env_file(reference, outcomes[reference])
    for entry in the_plan.env_from:
        builder.env_from(entry, outcomes[entry.reference])
    prepared = builder.result()
    if not collect:
        _raise_first(prepared, builder.errors)
    return prepared


def validate(prepared: Prepared) -> Prepared:
    """Apply the delivery checks to a Prepared that was built elsewhere (the agent's answer)."""
    for name, secret in (*prepared.env.items(), *prepared.expanded.items()):
        check_env(name, secret.reveal(), reference=None)
    if prepared.files:
        from injector import files  # noqa: PLC0415 - only when files are delivered

        for name in prepared.files:
            files.file_name(name)
    return prepared


def check_env(name: str, value: bytes, *, reference: str | None) -> None:
    """Refuse what an environment cannot hold: a bad name, a NUL, a string above 128 KiB."""
    if not name or "=" in name or "\x00" in name:
        raise BadDataError(f"{name!r} cannot be an environment variable name", reference=reference)
    if b"\x00" in value:
        msg = f"the value for {name} contains a NUL byte, which an environment cannot hold"
        raise BadDataError(f"{msg} (use {name}_FILE)", reference=reference)
    if len(os.fsencode(name)) + len(value) + 2 > MAX_ENV_STRING:
        msg = (
            f"the value for {name} is {len(value)} bytes, above Linux's 128 KiB limit for one "
            f"environment string; deliver it as a file (*_FILE: {name}_FILE)"
        )
        raise BadDataError(msg, reference=reference)


def _resolve(
    the_plan: Plan, config: Config, deadline: Deadline
) -> dict[Reference, Secret | InjectorError | None]:
    references = the_plan.references()
    if not references:
        return {}
    from injector.resolve import resolve_each  # noqa: PLC0415 - imports botocore

    log.debug("resolving", references=[str(r) for r in references], pid=os.getpid())
    return resolve_each(
        references,
        deadline,
        config.max_concurrency,
        max_bytes=config.max_secret_bytes,
        split=not config.single_process,
        direct_http=not config.stock_http,
    )


def _raise_first(prepared: Prepared, errors: list[InjectorError]) -> None:
    for failure in errors[1:]:  # the first one is the final error line
        log.error(
            "secret_failed",
            reference=failure.reference,
            error=failure.message,
            kind=failure.kind,
            exit_code=failure.exit_code,
        )
    if errors:
        raise errors[0]
    log.debug("prepared", variables=len(prepared.env) + len(prepared.expanded))


class _Builder:
    """Collects validated values and report rows for one plan."""

    def __init__(self, the_plan: Plan, config: Config, deadline: Deadline) -> None:
        self.plan, self.config, self.deadline = the_plan, config, deadline
        self.env: dict[str, Secret] = {}
        self.files: dict[str, Secret] = {}
        self.expanded: dict[str, tuple[Secret, str]] = {}
        self.rows: list[Row] = []
        self.errors: list[InjectorError] = []

    def result(self) -> Prepared:
        expanded = {name: secret for name, (secret, _) in self.expanded.items()}
        return Prepared(self.env, expanded, self.files, self.plan.drop, tuple(self.rows))

    def fail(self, variable: str, ref: Reference, error: InjectorError) -> None:
        if error.reference is None:
            error.reference = str(ref)
        self.errors.append(error)
        row = Row(variable, ref.source.service, str(ref), None, error.kind, error.exit_code)
        self.rows.append(row._replace(error=error.message))

    def delivery(self, delivery: Delivery, outcome: Secret | InjectorError | None) -> None:
        ref = delivery.reference
        if isinstance(outcome, InjectorError):
            self.fail(delivery.variable, ref, outcome)
            return
        if outcome is None:
            self.rows.append(
                Row(delivery.variable, ref.source.service, str(ref), None, "missing (optional)")
            )
            return
        try:
            secret = self._checked(delivery, outcome)
        except InjectorError as exc:
            self.fail(delivery.variable, ref, exc)
            return
        self.rows.append(Row(delivery.variable, ref.source.service, str(ref), len(secret), "ok"))

    def _checked(self, delivery: Delivery, outcome: Secret) -> Secret:
        from injector.secret import Secret  # noqa: PLC0415 - a tiny module, kept local

        value = outcome.reveal().strip() if delivery.trim else outcome.reveal()
        secret = Secret(value) if delivery.trim else outcome
        if delivery.to_file:
            from injector import files  # noqa: PLC0415 - only when files are delivered

            files.file_name(delivery.variable)
            self.files[delivery.variable] = secret
        else:
            check_env(delivery.variable, value, reference=str(delivery.reference))
            self.env[delivery.variable] = secret
        return secret

    def inline(
        self, item: Inline, outcomes: Mapping[Reference, Secret | InjectorError | None]
    ) -> None:
        """Compose a value from literal text and secrets (vals' inline form, inline.py)."""
        from injector import inline  # noqa: PLC0415
        from injector.plan import Delivery  # noqa: PLC0415
        from injector.secret import Secret  # noqa: PLC0415

        refs = item.references()
        shown = " ".join(str(ref) for ref in refs)
        for ref in refs:
            outcome = outcomes[ref]
            if isinstance(outcome, InjectorError):
                self.fail(item.variable, ref, outcome)
                return
            if outcome is None:
                self.rows.append(Row(item.variable, "inline", shown, None, MISSING))
                return
        values = {ref: outcome for ref in refs if isinstance(outcome := outcomes[ref], Secret)}
        delivery = Delivery(item.variable, refs[0], to_file=item.to_file)
        try:
            secret = self._checked(delivery, Secret(inline.compose(item, values)))
        except InjectorError as exc:
            self.fail(item.variable, refs[0], exc)
            return
        status = f"ok (inline: {len(refs)} references, {item.literal_bytes()} literal bytes)"
        self.rows.append(Row(item.variable, "inline", shown, len(secret), status))

    def env_from(self, entry: EnvFrom, outcome: Secret | InjectorError | None) -> None:
        """Expand one INJECTOR_ENV_FROM source into many variables (expand.py)."""
        from injector import expand  # noqa: PLC0415

        ref = entry.reference
        store = "ssm" if ref.source.service == expand.PATH_STORE else ref.source.service
        if isinstance(outcome, InjectorError):
            self.fail(expand.ROW, ref, outcome)
            return
        if outcome is None:
            self.rows.append(Row(expand.ROW, store, str(ref), None, MISSING))
            return
        try:
            pairs = expand.pairs(
                entry,
                outcome.reveal(),
                max_bytes=self.config.max_secret_bytes,
                deadline=self.deadline,
            )
            self._expand(ref, pairs)
        except InjectorError as exc:
            self.fail(expand.ROW, ref, exc)
            return
        status = f"ok ({len(pairs)} variables)"
        self.rows.append(Row(expand.ROW, store, str(ref), len(outcome), status))
        for name, secret in pairs:
            self.rows.append(Row(name, store, str(ref), len(secret), "ok (env-from)"))

    def env_file(self, ref: Reference, outcome: Secret | InjectorError | None) -> None:
        if isinstance(outcome, InjectorError):
            self.fail(ENV_FILE_ROW, ref, outcome)
            return
        if outcome is None:
            self.rows.append(
                Row(ENV_FILE_ROW, ref.source.service, str(ref), None, "missing (optional)")
            )
            return
        try:
            pairs = self._pairs(ref, outcome)
        except InjectorError as exc:
            self.fail(ENV_FILE_ROW, ref, exc)
            return
        status = f"ok ({len(pairs)} variables)"
        self.rows.append(Row(ENV_FILE_ROW, ref.source.service, str(ref), len(outcome), status))
        for name, secret in pairs:
            self.rows.append(Row(name, ref.source.service, str(ref), len(secret), "ok (env-file)"))

    def _pairs(self, ref: Reference, outcome: Secret) -> list[tuple[str, Secret]]:
        from injector.secret import Secret  # noqa: PLC0415

        data = outcome.reveal()
        if len(data) > self.config.max_secret_bytes:
            msg = f"env-file is {len(data)} bytes, above INJECTOR_MAX_SECRET_BYTES"
            raise BadDataError(msg, reference=str(ref))
        found = envfile.parse(data, reference=str(ref), deadline=self.deadline)
        _fits_execve(found, str(ref))
        pairs = [(name, Secret(value)) for name, value in found]
        for _, secret in pairs:
            log.register_secret(secret.reveal())
        self._expand(ref, pairs)
        return pairs

    def _expand(self, ref: Reference, pairs: Iterable[tuple[str, Secret]]) -> None:
        """Add expanded variables; two sources that yield one name are an error, not last-wins."""
        mine: dict[str, Secret] = {}
        for count, (name, secret) in enumerate(pairs):
            if count % 1024 == 1023:  # noqa: PLR2004 - a look at the clock now and then
                self.deadline.check(str(ref))
            check_env(name, secret.reveal(), reference=str(ref))
            mine[name] = secret  # within one file, the last line for a name wins (dotenv)
        for name, secret in mine.items():
            earlier = self.expanded.get(name)
            if earlier is not None:
                msg = f"{name} is given by both {earlier[1]} and {ref}"
                raise BadDataError(msg, reference=str(ref))
            self.expanded[name] = (secret, str(ref))


def _fits_execve(pairs: list[tuple[str, bytes]], reference: str) -> None:
    """Refuse at once what execve could never take: more bytes than ARG_MAX in all."""
    total = sum(len(name) + len(value) + 2 for name, value in pairs)
    if total > _arg_max():
        msg = f"the env-file gives {len(pairs)} variables, {total} bytes: above ARG_MAX"
        raise BadDataError(msg, reference=reference)


def _arg_max() -> int:
    try:
        return max(os.sysconf("SC_ARG_MAX"), MAX_ENV_STRING)
    except (OSError, ValueError):
        return 2 * 1024 * 1024
