"""The agent subcommands behind ``injector agent``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from injector import log

if TYPE_CHECKING:
    from collections.abc import Mapping

    from injector.config import Config


def run(name: str, config: Config, origin: str, flags: Mapping[str, str | None]) -> int:
    """Dispatch *name* (serve, check-config, doctor, whoami)."""
    if name == "serve":
        from injector.agent.serve import serve  # noqa: PLC0415

        return serve(origin)
    if name == "check-config":
        return check_config(origin, as_json="--json" in flags)
    if name == "doctor":
        from injector.agent.doctor import doctor  # noqa: PLC0415

        return doctor(origin, as_json="--json" in flags)
    return whoami(config)


def check_config(origin: str, *, as_json: bool) -> int:
    """Validate the policy; report rules that some container could match twice (exit 78)."""
    from injector.agent.serve import load  # noqa: PLC0415
    from injector.errors import CONFIG  # noqa: PLC0415

    policy = load(origin)
    ambiguous = policy.ambiguities()
    rules = [(r.name, sorted(r.deliveries())) for r in policy.rules]
    if as_json:
        report = {
            "ok": not ambiguous,
            "origin": origin,
            "policies": [{"name": name, "variables": names} for name, names in rules],
            "ambiguous": [list(pair) for pair in ambiguous],
        }
        log.write_json(report)
    else:
        for name, names in rules:
            log.write_stdout(f"policy {name}: {', '.join(names)}\n")
        for one, other in ambiguous:
            log.write_stdout(f"ambiguous: a container could match both {one} and {other}\n")
        log.write_stdout("ok\n" if not ambiguous else "not ok\n")
    return 0 if not ambiguous else CONFIG


def whoami(config: Config) -> int:
    """Print the identity the agent sees for this process (inside a container)."""
    from injector.agent import client  # noqa: PLC0415
    from injector.deadline import Deadline  # noqa: PLC0415

    seen = client.whoami(config.agent or client.DEFAULT_URL, Deadline(config.timeout))
    log.write_json(seen, sort_keys=True)
    return 0
