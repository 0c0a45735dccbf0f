"""Moto server for docker-compose.test.yml: start it, seed the demo secrets, keep serving.

Runs as the `moto` service's entrypoint (python3 of the moto image). The service reports
healthy once /tmp/seeded exists, and the app services wait for that. The values are
fixed, fake, and known to tests/e2e/compose/check.sh only as sha256 digests.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import boto3

PORT = 5000
URL = f"http://127.0.0.1:{PORT}"
server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", str(PORT)])  # noqa: S104 - the compose network only
signal.signal(signal.SIGTERM, lambda *_: (server.terminate(), sys.exit(0)))

for _ in range(300):
    try:
        urllib.request.urlopen(URL + "/moto-api/", timeout=1)  # noqa: S310
        break
    except OSError:
        if server.poll() is not None:
            sys.exit("moto server did not start")
        time.sleep(0.2)

common = {"endpoint_url": URL, "region_name": "us-east-1"}
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
s3 = boto3.client("s3", **common)
BUCKET = "compose-secrets"
s3.create_bucket(Bucket=BUCKET)
s3.put_object(Bucket=BUCKET, Key="app/secret", Body=b"s3-secret-value-for-compose")
s3.put_object(Bucket=BUCKET, Key="app.env", Body=b"ENVFILE_KEY=envfile-value-for-compose\n")
SQUIRREL = "my-secrets-bucket-compose"  # CREDENTIALS_DB_PASSWORD=true + BUCKETSUFFIX=compose
s3.create_bucket(Bucket=SQUIRREL)
s3.put_object(Bucket=SQUIRREL, Key="DB_PASSWORD", Body=b"  db-password-for-compose\n")
boto3.client("ssm", **common).put_parameter(
    Name="/compose/ssm-secret", Value="ssm-secure-string-for-compose", Type="SecureString"
)
boto3.client("secretsmanager", **common).create_secret(
    Name="compose/db",
    SecretString=json.dumps({"user": "app", "password": "sm-password-for-compose"}),
)
with open("/tmp/seeded", "w") as marker:
    marker.write("ok\n")
print("moto seeded", flush=True)
sys.exit(server.wait())
