"""Create test data through boto3 against a given endpoint, with fixed fake credentials."""

from __future__ import annotations

import base64
import functools
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import botocore.session

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


_CLIENT_LOCK = threading.Lock()
# Every value stored through these clients (Seeder or moto.client): the leak check's list.
RECORDED: set[bytes] = set()
_STORING = {
    "s3.PutObject": ("Body",), "ssm.PutParameter": ("Value",),
    "secretsmanager.CreateSecret": ("SecretString", "SecretBinary"),
    "secretsmanager.PutSecretValue": ("SecretString", "SecretBinary"),
    "secretsmanager.UpdateSecret": ("SecretString", "SecretBinary"), "kms.Encrypt": ("Plaintext",),
}
_MIN_RECORDED = 4


def record(value: bytes | str) -> None:
    """Remember a stored value, each of its lines and JSON string fields (4+ bytes each)."""
    data = value.encode() if isinstance(value, str) else bytes(value)
    parts = [data, *(line.strip() for line in data.splitlines())]
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        strings = (v for v in parsed.values() if isinstance(v, str))
        parts.extend(v.encode("utf-8", "surrogatepass") for v in strings)
    RECORDED.update(p for p in parts if len(p) >= _MIN_RECORDED)


def _record_params(params: dict[str, Any], **kwargs: Any) -> None:
    """Record the value fields of a storing call (botocore ``before-parameter-build`` hook)."""
    for operation, fields in _STORING.items():
        if str(kwargs.get("event_name", "")).endswith(operation):
            for name in fields:
                if isinstance(params.get(name), bytes | str):
                    record(params[name])


@functools.cache
def _shared_session() -> boto3.session.Session:
    """Return one session for every test client: its loaded service models make clients cheap."""
    core = botocore.session.get_session()
    for operation in _STORING:
        core.register(f"before-parameter-build.{operation}", _record_params)
    return boto3.session.Session(botocore_session=core)


def client(service: str, endpoint_url: str, **kwargs: Any) -> Any:
    """Return a boto3 client for *service* at *endpoint_url*, fake credentials, us-east-1."""
    options: dict[str, Any] = {
        "region_name": REGION,
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    options.update(kwargs)
    with _CLIENT_LOCK:
        return _shared_session().client(service, endpoint_url=endpoint_url, **options)


def aws_env_for(endpoint_url: str, home: Path, imds_url: str | None = None) -> dict[str, str]:
    """Return a complete environment for an AWS client subprocess (no PATH, no ~/.aws).

    With *imds_url* the credentials come from that metadata server instead of the environment.
    """
    env = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "no-such-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-such-aws-credentials"),
        "HOME": str(home),
    }
    if imds_url is None:
        env.update(FAKE_CREDENTIALS)
        env["AWS_EC2_METADATA_DISABLED"] = "true"
    else:
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds_url
        env["AWS_EC2_METADATA_DISABLED"] = "false"
    return env


class Seeder:
    """Helpers that put buckets, objects, keys, parameters and secrets into one endpoint.

    Every value they store is recorded in :data:`RECORDED` (so is anything stored through
    :func:`client`, e.g. ``moto.client("s3").put_object``): see ``Seeder.recorded``.
    """

    recorded = RECORDED

    def __init__(self, endpoint_url: str) -> None:
        """Talk to *endpoint_url* (moto directly, normally)."""
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """Return a cached boto3 client for *service*."""
        if service not in self._clients:
            self._clients[service] = client(service, self.endpoint_url)
        return self._clients[service]

    def bucket(self, name: str) -> str:
        """Create bucket *name* (idempotent) and return it."""
        self.client("s3").create_bucket(Bucket=name)
        return name

    def object(self, bucket: str, key: str, body: bytes | str, *, create: bool = True) -> str:
        """Store *body* at s3://bucket/key (creating the bucket) and return the ``ref+s3`` URL."""
        if create:
            self.bucket(bucket)
        data = body.encode() if isinstance(body, str) else body
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        return f"ref+s3://{bucket}/{key}"

    def kms_key(self, description: str = "test key") -> str:
        """Create a symmetric KMS key and return its id."""
        meta = self.client("kms").create_key(Description=description)["KeyMetadata"]
        return str(meta["KeyId"])

    def sse_kms_object(
        self, bucket: str, key: str, body: bytes | str, key_id: str | None = None,
    ) -> str:
        """Store *body* with SSE-KMS (a new key unless *key_id*) and return the key id used."""
        self.bucket(bucket)
        key_id = key_id or self.kms_key("sse-kms")
        data = body.encode() if isinstance(body, str) else body
        self.client("s3").put_object(
            Bucket=bucket, Key=key, Body=data,
            ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id,
        )
        return key_id

    def parameter(
        self, name: str, value: str, *, secure: bool = True, key_id: str | None = None,
    ) -> str:
        """Create or overwrite SSM parameter *name* (SecureString unless not *secure*)."""
        args: dict[str, Any] = {
            "Name": name, "Value": value, "Overwrite": True,
            "Type": "SecureString" if secure else "String",
        }
        if secure and key_id:
            args["KeyId"] = key_id
        self.client("ssm").put_parameter(**args)
        return name

    def secret(self, name: str, value: str | bytes) -> str:
        """Create Secrets Manager secret *name* (string or binary) and return its ARN."""
        field = "SecretBinary" if isinstance(value, bytes) else "SecretString"
        answer = self.client("secretsmanager").create_secret(Name=name, **{field: value})
        return str(answer["ARN"])

    def kms_encrypt(
        self, plaintext: bytes | str, key_id: str | None = None,
        context: dict[str, str] | None = None,
    ) -> str:
        """Encrypt *plaintext* with KMS (a new key unless *key_id*) and return base64 ciphertext."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        args: dict[str, Any] = {"KeyId": key_id or self.kms_key(), "Plaintext": data}
        if context:
            args["EncryptionContext"] = context
        blob: bytes = self.client("kms").encrypt(**args)["CiphertextBlob"]
        return base64.b64encode(blob).decode("ascii")

    def json_secret(self, name: str, fields: dict[str, Any]) -> str:
        """Create a secret whose value is *fields* as JSON and return its ARN."""
        return self.secret(name, json.dumps(fields))
