"""The server side's own share of section 3: the same API calls, sent by curl.

injector's time for N secrets includes what moto and the latency proxy spend answering
its calls: both are single Python processes on the same cores as the client. To tell that
share apart, each round of section 3 also runs curl (a C client: no signing, no parsing,
next to no CPU) sending exactly the calls injector makes for the same references, with
the same parallelism, through the same proxy into the same moto. What curl takes for N
secrets is the floor no client can go under on this machine.

The requests carry an ``Authorization`` header that names the service (moto routes on the
credential scope) but no valid signature: moto does not check signatures. Pure functions
here; bench/bench.py runs them (its rows are named ``report.FLOOR``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

SSM_BATCH = 10  # GetParameters names per call (injector.backends.ssm)
SM_BATCH = 20  # BatchGetSecretValue ids per call (injector.backends.secretsmanager)
REGION = "us-east-1"
AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, "
    "SignedHeaders=host, Signature=0"
)
JSON = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class Call:
    """One HTTP request of the floor: what injector would send for some references."""

    service: str
    method: str
    path: str
    target: str | None = None
    body: str | None = None


def calls_for(refs: Sequence[str]) -> list[Call]:
    """Return the batched calls that fetch *refs* (ref+s3://, ref+awsssm://, ref+awssecrets://)."""
    s3 = [ref.removeprefix("ref+s3://") for ref in refs if ref.startswith("ref+s3://")]
    ssm = ["/" + ref.removeprefix("ref+awsssm://") for ref in refs if ref.startswith("ref+awsssm:")]
    sm = [ref.removeprefix("ref+awssecrets://") for ref in refs if ref.startswith("ref+awssecr")]
    if len(s3) + len(ssm) + len(sm) != len(refs):
        msg = "the floor knows S3 objects, SSM parameters and Secrets Manager secrets only"
        raise ValueError(msg)
    calls = [Call("s3", "GET", "/" + name) for name in s3]
    calls += [
        Call(
            "ssm",
            "POST",
            "/",
            "AmazonSSM.GetParameters",
            json.dumps({"Names": ssm[i : i + SSM_BATCH], "WithDecryption": True}),
        )
        for i in range(0, len(ssm), SSM_BATCH)
    ]
    calls += [
        Call(
            "secretsmanager",
            "POST",
            "/",
            "secretsmanager.BatchGetSecretValue",
            json.dumps({"SecretIdList": sm[i : i + SM_BATCH]}),
        )
        for i in range(0, len(sm), SM_BATCH)
    ]
    return calls


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def curl_config(url: str, calls: Sequence[Call], parallel: int, output: str) -> str:
    """Return a ``curl --config`` file making *calls* on *url*, *parallel* at a time.

    Each answer goes to *output*: ``/dev/null``, or else a directory that gets one file
    per call (``0000``, ``0001``...) for the value check; a non-2xx answer makes curl exit
    non-zero.
    """
    lines = [
        "parallel",
        f"parallel-max = {parallel}",
        "parallel-immediate",
        "silent",
        "no-progress-meter",
    ]
    for number, call in enumerate(calls):
        if number:
            lines.append("next")
        target = output if output == "/dev/null" else f"{output}/{number:04d}"
        lines += [
            "fail",
            f"request = {call.method}",
            f"url = {_quoted(url + call.path)}",
            f"output = {_quoted(target)}",
            "header = "
            + _quoted("Authorization: " + AUTH.format(region=REGION, service=call.service)),
        ]
        if call.target is not None:
            lines.append("header = " + _quoted("X-Amz-Target: " + call.target))
        if call.body is not None:
            lines += [
                "header = " + _quoted("Content-Type: " + JSON),
                f"data-binary = {_quoted(call.body)}",
            ]
    return "\n".join(lines) + "\n"
