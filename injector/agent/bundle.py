"""The host side of a delivery: plan the matched policy, fetch it, encode it for the wire.

The wire format (``GET /v1/bundle``, 200): JSON ``{"version": 1, "request_id": ...,
"env": {VAR: base64}, "files": {VAR_FILE: base64}}``; errors: ``{"error", "kind",
"reference", "exit_code"}`` (never a value).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from injector import plan
from injector.config import Config
from injector.deadline import Deadline
from injector.errors import InjectorError, SecretNotFoundError

if TYPE_CHECKING:
    from injector.agent.policy import Rule
    from injector.secret import Secret

WIRE_VERSION = 1
NOT_FOUND = 404
BAD_GATEWAY = 502


class FetchError(Exception):
    """A secret of the policy could not be had; carries the status and the error body."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        """Keep what the client is told."""
        super().__init__(str(body.get("error")))
        self.status = status
        self.body = body


def fetch(rule: Rule, timeout: float) -> tuple[dict[str, Secret], dict[str, Secret]]:
    """Return (env, files) for *rule*; FetchError names the first reference that failed."""
    config = Config(timeout=timeout, single_process=True)  # a daemon with threads: no fork
    the_plan = plan.build(rule.deliveries(), config)
    values = _resolve(the_plan, config, Deadline(timeout))
    env: dict[str, Secret] = {}
    files: dict[str, Secret] = {}
    for delivery in the_plan.deliveries:
        secret = values.get(delivery.variable)
        if secret is not None:
            (files if delivery.to_file else env)[delivery.variable] = secret
    return env, files


def _resolve(the_plan: plan.Plan, config: Config, deadline: Deadline) -> dict[str, Secret]:
    """Run the one pipeline, injector.prepare, as exec does; return variable -> Secret."""
    from injector.prepare import prepare  # noqa: PLC0415 - botocore, agent mode only

    try:
        prepared = prepare(the_plan, config, deadline)
    except InjectorError as exc:
        variable = next(
            (d.variable for d in the_plan.deliveries if str(d.reference) == exc.reference), ""
        )
        raise FetchError(*error_body(exc, variable)) from None
    return {**prepared.env, **prepared.files}


def error_body(err: InjectorError, variable: str) -> tuple[int, dict[str, object]]:
    """Return the status and body for a secret the host could not get."""
    status = NOT_FOUND if isinstance(err, SecretNotFoundError) else BAD_GATEWAY
    return status, {
        "error": err.message,
        "kind": err.kind,
        "reference": err.reference,
        "variable": variable,
        "exit_code": err.exit_code,
    }


def encode(request_id: str, env: dict[str, Secret], files: dict[str, Secret]) -> bytes:
    """Serialise a bundle (the only place values are turned into bytes for the wire)."""
    doc = {
        "version": WIRE_VERSION,
        "request_id": request_id,
        "env": {k: base64.b64encode(v.reveal()).decode("ascii") for k, v in env.items()},
        "files": {k: base64.b64encode(v.reveal()).decode("ascii") for k, v in files.items()},
    }
    return json.dumps(doc).encode("ascii")
