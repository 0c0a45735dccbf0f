"""`make demo`: injector end to end on an embedded default, with no AWS account.

Starts a local S3-compatible server (moto) on 127.0.0.1, stores a secret object
encrypted with SSE-KMS and a dotenv env-file (seed 001's workflow), then runs a small
program under injector that shows what arrived. Set DEMO_BINARY=dist/injector to use
the static binary instead of ``python -m injector``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
FAKE = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ENV_FILE = b"DB_USERNAME='root'\nDB_PASSWORD='orange1'\nexport DB_HOSTNAME=\"db.internal\"\n"
SHOW = (
    'echo "SECRETPASSWORD=$SECRETPASSWORD API_TOKEN=$API_TOKEN '
    'DB_USERNAME=$DB_USERNAME DB_PASSWORD=$DB_PASSWORD DB_HOSTNAME=$DB_HOSTNAME"; '
    'echo "injector control variables left in the child: $(env | grep -c -E '
    "'^(INJECTOR_|CREDENTIALS_|BUCKETSUFFIX)')\""
)


def free_port() -> int:
    """Ask the kernel for a free port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start moto's server and wait until it answers."""
    server = ROOT / ".venv" / "bin" / "moto_server"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
        except OSError:
            time.sleep(0.1)
        else:
            return proc
    proc.kill()
    sys.exit("moto server did not start; see " + str(log))


def seed(endpoint: str) -> None:
    """Store the demo's secrets the way an operator would."""
    session = boto3.Session(
        region_name="us-east-1",
        aws_access_key_id="demo",
        aws_secret_access_key="demo",  # noqa: S106 - fake local key
    )
    s3 = session.client("s3", endpoint_url=endpoint)
    key_id = session.client("kms", endpoint_url=endpoint).create_key()["KeyMetadata"]["KeyId"]
    for bucket in ("my-secrets-bucket-demo", "tw-snacks"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket="my-secrets-bucket-demo",
        Key="SECRETPASSWORD",
        Body=b"PRIVATE99\n",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_id,
    )
    s3.put_object(
        Bucket="tw-snacks",
        Key="dev/env",
        Body=ENV_FILE,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_id,
    )
    s3.put_object(Bucket="tw-snacks", Key="dev/api.json", Body=b'{"token": "tok-123"}')


def run_injector(endpoint: str) -> int:
    """Run the demo program under injector and return its exit code."""
    binary = os.environ.get("DEMO_BINARY")
    command = [binary] if binary else [sys.executable, "-m", "injector"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **FAKE,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CREDENTIALS_SECRETPASSWORD": "true",
        "BUCKETSUFFIX": "demo",
        "INJECTOR_ENV_FILES": "ref+s3://tw-snacks/dev/env",
        "API_TOKEN": "ref+s3://tw-snacks/dev/api.json#/token",
        "INJECTOR_LOG_FORMAT": "console",
        "PYTHONPATH": str(ROOT),
    }
    print("# what `docker inspect` would show: references, never values")
    for name in ("CREDENTIALS_SECRETPASSWORD", "BUCKETSUFFIX", "INJECTOR_ENV_FILES", "API_TOKEN"):
        print(f"{name}={env[name]}")
    print(f"# what the program sees under {' '.join(command)}:")
    sys.stdout.flush()
    return subprocess.call([*command, "sh", "-c", SHOW], env=env)


def main() -> int:
    """Start the server, seed it, run the demo, stop the server."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(port, Path(tmp) / "moto.log")
        try:
            seed(endpoint)
            code = run_injector(endpoint)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"demo finished with exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
