"""Sign, send (to a canned answer) and parse every operation injector calls; print JSON.

    python -m tests.support.signing stock|injector [MODELS_DIR | EMBEDDED.py]

``stock``: a plain ``botocore.session.get_session()`` with botocore's own data, nothing of
injector imported. ``injector``: ``injector.backends.boto.new_session(MODELS_DIR)`` (the
stubs and the trimmed models). Everything else is fixed: the clock, the credentials, the
uuids botocore draws (invocation ids, idempotency tokens), the client configuration and
the answers. Each request is caught in ``before-send`` (nothing leaves the process): its
method, URL, headers (in order) and body are printed with what botocore parsed from the
canned answer, so two runs can be compared byte for byte (tests/unit/test_trimmed_models.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import sys
import uuid
from pathlib import Path
from typing import Any

NOW = dt.datetime(2026, 11, 30, 12, 34, 56)  # noqa: DTZ001 - botocore's naive UTC
ENDPOINT = "http://127.0.0.1:4566"

XML = b'<?xml version="1.0" encoding="UTF-8"?>\n'
STS_OK = XML + (
    b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
    b"<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
    b"<SessionToken>t</SessionToken><Expiration>2026-11-30T13:34:56Z</Expiration></Credentials>"
    b"<AssumedRoleUser><AssumedRoleId>AROA:x</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/x"
    b"</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId>"
    b"</ResponseMetadata></AssumeRoleResponse>"
)
S3_SESSION = XML + (
    b"<CreateSessionResult><Credentials><SessionToken>t</SessionToken><SecretAccessKey>s"
    b"</SecretAccessKey><AccessKeyId>a</AccessKeyId><Expiration>2026-11-30T13:34:56Z"
    b"</Expiration></Credentials></CreateSessionResult>"
)
S3_ERROR = XML + b"<Error><Code>NoSuchKey</Code><Message>no</Message><Key>k</Key></Error>"
OBJECT_HEADERS = {
    "Content-Length": "5",
    "ETag": '"abc"',
    "Last-Modified": "Mon, 30 Nov 2026 12:00:00 GMT",
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:1:key/k",
    "x-amz-meta-owner": "team",
    "x-amz-version-id": "v1",
}
SSM_PARAMS = {
    "Parameters": [
        {
            "Name": "/app/db",
            "Type": "SecureString",
            "Value": "v",
            "Version": 3,
            "LastModifiedDate": 1795000000.5,
            "ARN": "arn:aws:ssm:eu-west-1:1:parameter/app/db",
            "DataType": "text",
        }
    ],
    "InvalidParameters": ["/app/missing"],
}
SECRET = {
    "ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf",
    "Name": "db",
    "VersionId": "v1",
    "SecretString": '{"a":1}',
    "VersionStages": ["AWSCURRENT"],
    "CreatedDate": 1795000000.25,
}
NOT_FOUND = {"__type": "ResourceNotFoundException", "Message": "no such secret"}

# Each case: service, region, operation and its parameters, then the canned answer.
Case = tuple[str, str, str, dict[str, Any], int, dict[str, str], bytes]
CASES: list[Case] = [
    (
        "s3",
        "us-east-1",
        "GetObject",
        {"Bucket": "bench", "Key": "one"},
        200,
        OBJECT_HEADERS,
        b"value",
    ),
    (
        "s3",
        "eu-west-1",
        "GetObject",
        {"Bucket": "my.dotted.bucket", "Key": "a/b c+d.txt", "VersionId": "v1"},
        200,
        OBJECT_HEADERS,
        b"value",
    ),
    ("s3", "eu-west-1", "GetObject", {"Bucket": "b", "Key": "missing"}, 404, {}, S3_ERROR),
    (
        "s3",
        "eu-west-1",
        "PutObject",
        {
            "Bucket": "b",
            "Key": "k",
            "Body": b"secret",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "alias/k",
        },
        200,
        {"ETag": '"e"', "x-amz-server-side-encryption": "aws:kms"},
        b"",
    ),
    ("s3", "eu-west-1", "HeadObject", {"Bucket": "b", "Key": "k"}, 200, OBJECT_HEADERS, b""),
    (
        "s3",
        "eu-west-1",
        "HeadBucket",
        {"Bucket": "b"},
        200,
        {"x-amz-bucket-region": "eu-west-1"},
        b"",
    ),
    ("s3", "us-east-1", "CreateSession", {"Bucket": "dir--use1-az4--x-s3"}, 200, {}, S3_SESSION),
    (
        "ssm",
        "eu-west-1",
        "GetParameters",
        {"Names": ["/app/db", "/app/missing"], "WithDecryption": True},
        200,
        {},
        json.dumps(SSM_PARAMS).encode(),
    ),
    (
        "ssm",
        "eu-west-1",
        "GetParametersByPath",
        {"Path": "/app", "Recursive": True, "WithDecryption": True, "NextToken": "n"},
        200,
        {},
        json.dumps({"Parameters": SSM_PARAMS["Parameters"]}).encode(),
    ),
    (
        "ssm",
        "eu-west-1",
        "PutParameter",
        {
            "Name": "/app/db",
            "Value": "v",
            "Type": "SecureString",
            "KeyId": "alias/k",
            "Overwrite": True,
        },
        200,
        {},
        b'{"Version":4,"Tier":"Standard"}',
    ),
    (
        "secretsmanager",
        "eu-west-1",
        "GetSecretValue",
        {"SecretId": "db", "VersionStage": "AWSCURRENT"},
        200,
        {},
        json.dumps(SECRET).encode(),
    ),
    (
        "secretsmanager",
        "eu-west-1",
        "GetSecretValue",
        {"SecretId": "gone"},
        400,
        {},
        json.dumps(NOT_FOUND).encode(),
    ),
    (
        "secretsmanager",
        "eu-west-1",
        "BatchGetSecretValue",
        {"SecretIdList": ["db", "gone"]},
        200,
        {},
        json.dumps(
            {
                "SecretValues": [SECRET],
                "Errors": [
                    {"SecretId": "gone", "ErrorCode": "ResourceNotFoundException", "Message": "no"}
                ],
            }
        ).encode(),
    ),
    (
        "secretsmanager",
        "eu-west-1",
        "PutSecretValue",
        {"SecretId": "db", "SecretBinary": b"\x00\xff"},
        200,
        {},
        b'{"ARN":"arn:x","Name":"db","VersionId":"v2","VersionStages":["AWSCURRENT"]}',
    ),
    (
        "secretsmanager",
        "eu-west-1",
        "CreateSecret",
        {"Name": "db", "SecretString": "s", "KmsKeyId": "alias/k"},
        200,
        {},
        b'{"ARN":"arn:x","Name":"db","VersionId":"v1"}',
    ),
    (
        "kms",
        "eu-west-1",
        "Decrypt",
        {"CiphertextBlob": b"\x01\x02blob", "EncryptionContext": {"app": "web"}},
        200,
        {},
        b'{"KeyId":"arn:k","Plaintext":"c2VjcmV0","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}',
    ),
    (
        "kms",
        "eu-west-1",
        "Encrypt",
        {"KeyId": "alias/k", "Plaintext": b"secret", "EncryptionContext": {"app": "web"}},
        200,
        {},
        b'{"KeyId":"arn:k","CiphertextBlob":"AQI=","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}',
    ),
    (
        "sts",
        "eu-west-1",
        "AssumeRole",
        {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "injector", "DurationSeconds": 900},
        200,
        {},
        STS_OK,
    ),
]


class Raw:
    """Enough of urllib3's response for botocore: stream() for buffered, read() for streaming."""

    def __init__(self, body: bytes) -> None:
        """Hold the canned *body*."""
        self._body = io.BytesIO(body)

    def stream(self, *_args: object, **_kwargs: object) -> Any:
        """Yield the whole body once."""
        yield self._body.read()

    def read(self, amt: int | None = None, **_kwargs: object) -> bytes:
        """Read like a file."""
        return self._body.read(amt)


# The client configuration and identity every case is sent with (also by
# tests/integration/test_transport_wire.py, which sends the same cases over sockets).
CLIENT_CONFIG: dict[str, Any] = {
    "connect_timeout": 3,
    "read_timeout": 10,
    "max_pool_connections": 16,
    "retries": {"mode": "standard", "total_max_attempts": 5},
    "tcp_keepalive": True,
}


def fix_session(session: Any) -> None:
    """Give *session* the fixed credentials and user agent every case is signed with."""
    session.user_agent_extra = "injector/test"
    session.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token")


def _fix_randomness() -> None:
    counter = iter(range(1, 1 << 30))
    uuid.uuid4 = lambda: uuid.UUID(int=next(counter))  # type: ignore[assignment]
    import botocore.auth

    botocore.auth.get_current_datetime = lambda *_a, **_k: NOW  # type: ignore[attr-defined]


def _models(models_dir: str | None) -> Any:
    """Return a directory of trimmed models, or a module of packaging/embed_data.py (*.py).

    For the module, botocore's own data directory is hidden first, as the frozen binary
    has none: every file then comes from the module (or raises).
    """
    if models_dir is None or not models_dir.endswith(".py"):
        return Path(models_dir) if models_dir else None
    import botocore.loaders

    from tests.support.modules import load_file

    botocore.loaders.Loader.BUILTIN_DATA_PATH = str(Path(models_dir).with_suffix(".absent"))
    return load_file("embedded_under_test", models_dir)


def _session(mode: str, models_dir: str | None) -> Any:
    if mode == "stock":
        import botocore.session

        return botocore.session.get_session()
    from injector.backends import boto

    if sys.modules["botocore.docs"].__doc__ != boto.STUB_DOC:
        msg = "the botocore.docs stub is not in place"
        raise SystemExit(msg)
    session = boto.new_session(_models(models_dir))
    if not isinstance(session.get_component("data_loader"), boto.TrimmedLoader):
        msg = f"no trimmed models in {models_dir}"
        raise SystemExit(msg)
    return session


def _plain(value: Any) -> Any:
    """Return *value* as JSON-able data: bytes as base64, streams read, datetimes as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return "b64:" + base64.b64encode(value).decode()
    if hasattr(value, "read"):
        return _plain(value.read())
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"{type(value).__name__}:{value}"


def run(mode: str, models_dir: str | None) -> list[dict[str, Any]]:
    """Run every case; return what was sent and what was parsed."""
    session = _session(mode, models_dir)
    _fix_randomness()
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config
    from botocore.exceptions import ClientError

    fix_session(session)
    config = Config(**CLIENT_CONFIG)
    results = []
    for endpoint in (None, ENDPOINT):
        for service, region, op, params, status, headers, body in CASES:
            sent: list[dict[str, Any]] = []

            def answer(
                request: Any,
                status: int = status,
                headers: dict[str, str] = headers,
                body: bytes = body,
                sent: list[dict[str, Any]] = sent,
                **_: Any,
            ) -> Any:
                sent.append(
                    {
                        "method": request.method,
                        "url": request.url,
                        "headers": [
                            [k, v.decode("latin-1") if isinstance(v, bytes) else v]
                            for k, v in request.headers.items()
                        ],
                        "body": _plain(request.body or b""),
                    }
                )
                return AWSResponse(request.url, status, headers, Raw(body))

            client = session.create_client(
                service, region_name=region, endpoint_url=endpoint, config=config
            )
            client.meta.events.register("before-send", answer)
            method = getattr(client, _snake(op))
            try:
                parsed: Any = _plain(method(**params))
            except ClientError as exc:
                parsed = {"error": type(exc).__name__, "response": _plain(exc.response)}
            results.append(
                {"case": f"{service} {region} {op} {endpoint}", "sent": sent, "parsed": parsed}
            )
    return results


def _snake(op: str) -> str:
    from botocore import xform_name

    return str(xform_name(op))


def main(argv: list[str]) -> int:
    """Print the results of ``run`` as JSON."""
    print(json.dumps(run(argv[1], argv[2] if len(argv) > 2 else None), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
