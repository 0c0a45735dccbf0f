"""Where a fetch's time goes: ``injector check`` with botocore instrumented, as JSON.

Run as ``.venv/bin/python bench/timeline.py`` with the references in the environment. It
wraps client creation (``Clients._create``), lock-inclusive client look-ups
(``Clients.get``), API calls, HTTP sends, SigV4 signing, response parsing and user-agent
strings, runs ``injector check`` in-process, and prints one JSON object: import time, the
resolve's wall and CPU time (all threads), and per event kind the start, end, durations and
the CPU time of the thread (milliseconds from the start of this process). ``bench/bench.py``
uses it to explain the scaling figures; it never prints a value (``check`` prints sizes
only, and is silenced).
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from typing import Any

T0 = time.perf_counter()
EVENTS: list[tuple[str, str, str, float, float, float]] = []

import botocore.client  # noqa: E402 - timed from T0 on purpose
import botocore.endpoint  # noqa: E402
import botocore.parsers  # noqa: E402
import botocore.signers  # noqa: E402
import botocore.useragent  # noqa: E402

from injector import cli  # noqa: E402
from injector.backends import aws  # noqa: E402


def _wrap(owner: Any, name: str, kind: str, label: Any) -> None:  # noqa: ANN401
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            EVENTS.append(
                (
                    kind,
                    label(args),
                    threading.current_thread().name,
                    (start - T0) * 1000,
                    (time.perf_counter() - T0) * 1000,
                    (time.thread_time() - cpu) * 1000,
                )
            )

    setattr(owner, name, wrapper)


KINDS = ("create", "get", "call", "http", "sign", "parse", "useragent")


def main() -> None:
    """Instrument, run ``injector check``, print the timeline summary."""
    _wrap(aws.Clients, "_create", "create", lambda a: a[1])
    _wrap(aws.Clients, "get", "get", lambda a: a[1])
    _wrap(botocore.client.BaseClient, "_make_api_call", "call", lambda a: a[1])
    _wrap(botocore.endpoint.Endpoint, "_send", "http", lambda _a: "")
    _wrap(botocore.signers.RequestSigner, "sign", "sign", lambda a: a[1])
    _wrap(botocore.parsers.ResponseParser, "parse", "parse", lambda _a: "")
    _wrap(botocore.useragent.UserAgentString, "to_string", "useragent", lambda _a: "")
    imported = (time.perf_counter() - T0) * 1000
    cpu = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["injector", "check"])
    done = (time.perf_counter() - T0) * 1000
    cpu = (time.process_time() - cpu) * 1000
    result: dict[str, Any] = {
        "code": code,
        "imports_ms": imported,
        "check_ms": done - imported,
        "check_cpu_ms": cpu,
        "kinds": {},
        "creates": [],
    }
    for kind in KINDS:
        items = [e for e in EVENTS if e[0] == kind]
        if items:
            durations = [e[4] - e[3] for e in items]
            result["kinds"][kind] = {
                "n": len(items),
                "first_start": min(e[3] for e in items),
                "last_end": max(e[4] for e in items),
                "sum": sum(durations),
                "mean": sum(durations) / len(items),
                "max": max(durations),
                "cpu": sum(e[5] for e in items),
            }
    result["creates"] = [
        {"service": e[1], "start": e[3], "end": e[4]} for e in EVENTS if e[0] == "create"
    ]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
