"""The test servers themselves: moto, our fault-injecting proxy and our IMDSv2 server."""

from __future__ import annotations

import base64
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from tests.support.aws_seed import Seeder, client
from tests.support.imds import Imds
from tests.support.moto_server import MotoServer
from tests.support.proxy import Proxy

BUCKET = "support-bucket"
SUPPORT = Path(__file__).resolve().parents[1] / "support"
CHAIN_PROBE = """
import json, boto3
session = boto3.Session()
creds = session.get_credentials()
out = {"method": creds and creds.method, "key": creds and creds.access_key}
if creds:
    out["arn"] = session.client("sts").get_caller_identity()["Arn"]
print(json.dumps(out))
"""


def aws(
    service: str,
    url: str,
    attempts: int = 3,
    read_timeout: float = 10,
    keys: dict[str, str] | None = None,
) -> Any:
    """Return a botocore client in standard retry mode with *attempts* and *read_timeout*."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        read_timeout=read_timeout,
        connect_timeout=2,
    )
    return client(service, url, config=config, **(keys or {}))


def probe_chain(env: dict[str, str]) -> dict[str, Any]:
    """Run boto3's default credential chain in a subprocess with *env*; return what it found."""
    proc = subprocess.run(
        [sys.executable, "-c", CHAIN_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def imds_get(imds: Imds, path: str, token: str | None = None) -> tuple[int, str]:
    """GET *path* from the IMDS server (IMDSv1 when *token* is None)."""
    headers = {"X-aws-ec2-metadata-token": token} if token else {}
    request = urllib.request.Request(imds.url + path, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def imds_token(url: str, ttl: str | None = "60") -> tuple[int, str]:
    """PUT for an IMDSv2 token; return status and token."""
    headers = {"X-aws-ec2-metadata-token-ttl-seconds": ttl} if ttl else {}
    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        url + "/latest/api/token",
        method="PUT",
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


# ----------------------------------------------------------------------------- moto


def test_moto_reachable_and_reset_clears_state(moto: MotoServer, seed: Seeder) -> None:
    """Moto answers on its URL and reset() forgets everything stored."""
    seed.object(BUCKET, "k", "v")
    assert [b["Name"] for b in moto.client("s3").list_buckets()["Buckets"]] == [BUCKET]
    moto.reset()
    assert moto.client("s3").list_buckets()["Buckets"] == []
    assert moto.log_path.is_file()


def test_reset_auth_switches_on_iam_enforcement(moto: MotoServer, seed: Seeder) -> None:
    """After reset_auth(0) the unknown fake keys are rejected; the fixture switches it off again."""
    seed.object(BUCKET, "k", "v")
    moto.reset_auth(0)
    with pytest.raises(ClientError) as caught:
        moto.client("s3").get_object(Bucket=BUCKET, Key="k")
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert moto.auth_changed


def test_moto_auth_is_off_again(moto: MotoServer, seed: Seeder) -> None:
    """The previous test's enforcement does not leak into this one."""
    assert seed.object(BUCKET, "k", "v") == f"ref+s3://{BUCKET}/k"


def test_aws_env_isolates_the_subprocess(aws_env: dict[str, str], moto: MotoServer) -> None:
    """aws_env points at moto with fake keys, no IMDS and no readable ~/.aws files."""
    assert aws_env["AWS_ENDPOINT_URL"] == moto.url
    assert aws_env["AWS_ACCESS_KEY_ID"] == "testing"
    assert aws_env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert aws_env["AWS_DEFAULT_REGION"] == aws_env["AWS_REGION"] == "us-east-1"
    assert not Path(aws_env["AWS_CONFIG_FILE"]).exists()
    assert not Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).exists()


# ----------------------------------------------------------------------------- proxy: forwarding


def test_proxy_forwards_and_names_every_operation(proxy: Proxy, seed: Seeder) -> None:
    """Calls of all four services pass through intact and are recorded as (service, operation)."""
    seed.object(BUCKET, "plain", "v1")
    seed.parameter("/app/db", "pw")
    seed.secret("app/api", "token")
    ciphertext = seed.kms_encrypt("hello")
    s3 = aws("s3", proxy.url)
    assert s3.get_object(Bucket=BUCKET, Key="plain")["Body"].read() == b"v1"
    assert s3.head_object(Bucket=BUCKET, Key="plain")["ContentLength"] == 2
    s3.head_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="new", Body=b"x" * 100_000)
    ssm = aws("ssm", proxy.url).get_parameters(Names=["/app/db"], WithDecryption=True)
    assert ssm["Parameters"][0]["Value"] == "pw"
    sm = aws("secretsmanager", proxy.url).batch_get_secret_value(SecretIdList=["app/api"])
    assert sm["SecretValues"][0]["SecretString"] == "token"
    plain = aws("kms", proxy.url).decrypt(CiphertextBlob=base64.b64decode(ciphertext))
    assert plain["Plaintext"] == b"hello"
    assert proxy.operations() == [
        ("s3", "GetObject"),
        ("s3", "HeadObject"),
        ("s3", "HeadBucket"),
        ("s3", "PutObject"),
        ("ssm", "GetParameters"),
        ("secretsmanager", "BatchGetSecretValue"),
        ("kms", "Decrypt"),
    ]
    assert proxy.count("GetObject") == 1
    assert proxy.count("Decrypt", service="kms") == 1


def test_proxy_clear_forgets_calls(proxy: Proxy, seed: Seeder) -> None:
    """clear() empties the record."""
    seed.bucket(BUCKET)
    aws("s3", proxy.url).head_bucket(Bucket=BUCKET)
    assert proxy.count("HeadBucket") == 1
    proxy.clear()
    assert proxy.calls() == []


def test_proxy_keeps_sigv4_valid_under_iam_enforcement(
    moto: MotoServer,
    proxy: Proxy,
    seed: Seeder,
) -> None:
    """With IAM enforced, signatures made for the proxy's Host still validate and policies apply."""
    seed.object(BUCKET, "allowed", "yes")
    seed.object(BUCKET, "other", "no")
    keys = reader_keys(seed, f"arn:aws:s3:::{BUCKET}/allowed")
    moto.reset_auth(0)
    s3 = aws("s3", proxy.url, keys=keys)
    assert s3.get_object(Bucket=BUCKET, Key="allowed")["Body"].read() == b"yes"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="other")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def reader_keys(seed: Seeder, resource: str) -> dict[str, str]:
    """Create an IAM user allowed s3:GetObject on *resource*; return its keys as client kwargs."""
    iam = seed.client("iam")
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    return {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


def test_proxy_survives_200_concurrent_clients(proxy: Proxy, seed: Seeder) -> None:
    """Two hundred simultaneous connections (with 50 ms latency each) all get their answer."""
    seed.object(BUCKET, "k", "value")
    proxy.latency(0.05)
    signer = client("s3", proxy.url, config=Config(signature_version="s3v4"))
    url = signer.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"})
    target = url.removeprefix(proxy.url)
    port = int(proxy.url.rsplit(":", 1)[1])
    barrier = threading.Barrier(200)
    results: list[tuple[int, bytes]] = []

    def fetch() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        conn.request("GET", target)
        resp = conn.getresponse()
        results.append((resp.status, resp.read()))
        conn.close()

    threads = [threading.Thread(target=fetch) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [(200, b"value")] * 200
    assert proxy.count("GetObject", service="s3") == 200


# ----------------------------------------------------------------------------- proxy: faults


def test_throttling_is_retried_then_succeeds(proxy: Proxy, seed: Seeder) -> None:
    """Two KMS ThrottlingExceptions are retried by standard mode; the third attempt succeeds."""
    ciphertext = base64.b64decode(seed.kms_encrypt("hi"))
    rule = proxy.add_rule(service="kms", operation="Decrypt", error="ThrottlingException", times=2)
    assert aws("kms", proxy.url).decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"hi"
    assert rule.hits == 2
    assert proxy.count("Decrypt") == 3


def test_s3_slowdown_is_xml_503_and_retried(proxy: Proxy, seed: Seeder) -> None:
    """A throttling rule on S3 answers S3's SlowDown (503, XML), which botocore retries."""
    seed.object(BUCKET, "k", "v")
    proxy.add_rule(service="s3", error="ThrottlingException", times=1)
    assert aws("s3", proxy.url).get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
    proxy.add_rule(service="s3", error="SlowDown")
    with pytest.raises(ClientError) as caught:
        aws("s3", proxy.url, attempts=2).get_object(Bucket=BUCKET, Key="k")
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "SlowDown",
        503,
    )


def test_access_denied_json_is_not_retried(proxy: Proxy, seed: Seeder) -> None:
    """AccessDeniedException arrives in AWS's JSON shape (400) and is not retried."""
    seed.parameter("/p", "v")
    proxy.add_rule(service="ssm", error="AccessDeniedException", message="no ssm for you")
    with pytest.raises(ClientError) as caught:
        aws("ssm", proxy.url).get_parameters(Names=["/p"])
    error = caught.value.response
    assert error["Error"] == {"Code": "AccessDeniedException", "Message": "no ssm for you"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert proxy.count("GetParameters") == 1


def test_s3_access_denied_is_xml_403(proxy: Proxy, seed: Seeder) -> None:
    """An access-denied rule on S3 answers S3's AccessDenied (403) only for the matching key."""
    seed.object(BUCKET, "good", "g")
    seed.object(BUCKET, "bad", "b")
    proxy.add_rule(service="s3", key="/bad", error="AccessDenied")
    s3 = aws("s3", proxy.url)
    assert s3.get_object(Bucket=BUCKET, Key="good")["Body"].read() == b"g"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="bad")
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied",
        403,
    )


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalFailure"), (503, "ServiceUnavailableException")]
)
def test_generic_5xx_is_retried_until_attempts_run_out(
    proxy: Proxy,
    seed: Seeder,
    status: int,
    code: str,
) -> None:
    """A 500 or 503 on every call is retried up to max attempts, then surfaces with its code."""
    secret = seed.secret("s", "v")
    proxy.add_rule(service="secretsmanager", status=status)
    with pytest.raises(ClientError) as caught:
        aws("secretsmanager", proxy.url, attempts=2).get_secret_value(SecretId=secret)
    assert caught.value.response["Error"]["Code"] == code
    assert proxy.count("GetSecretValue") == 2


def test_delay_past_read_timeout(proxy: Proxy, seed: Seeder) -> None:
    """A delay longer than the read timeout is a ReadTimeoutError; with times=1 a retry succeeds."""
    seed.parameter("/slow", "v", secure=False)
    proxy.add_rule(operation="GetParameters", delay=5)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        aws("ssm", proxy.url, attempts=1, read_timeout=0.3).get_parameters(Names=["/slow"])
    assert time.monotonic() - started < 3
    proxy.clear_rules()
    proxy.add_rule(operation="GetParameters", delay=5, times=1)
    answer = aws("ssm", proxy.url, read_timeout=0.3).get_parameters(Names=["/slow"])
    assert answer["Parameters"][0]["Value"] == "v"


@pytest.mark.parametrize("fault", ["drop", "reset"])
def test_drop_and_reset_are_connection_errors(proxy: Proxy, seed: Seeder, fault: str) -> None:
    """A dropped or reset connection surfaces as botocore's ConnectionClosedError."""
    seed.object(BUCKET, "k", "v")
    rule = (
        proxy.add_rule(operation="GetObject", drop=True)
        if fault == "drop"
        else proxy.add_rule(operation="GetObject", reset=True)
    )
    with pytest.raises(ConnectionClosedError):
        aws("s3", proxy.url, attempts=1).get_object(Bucket=BUCKET, Key="k")
    assert rule.hits == 1
    assert proxy.calls()[-1].fault == fault


def test_tcp_reset_really_is_a_reset(proxy: Proxy) -> None:
    """The reset rule closes with SO_LINGER 0, so a raw socket reads ECONNRESET."""
    proxy.add_rule(reset=True)
    host, port = proxy.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", "/")
    with pytest.raises(ConnectionResetError):
        conn.getresponse()


def test_truncated_body_fails_while_reading_the_stream(proxy: Proxy, seed: Seeder) -> None:
    """A body cut short under a full Content-Length raises while reading, and is not retried."""
    seed.object(BUCKET, "big", b"x" * 1000)
    proxy.add_rule(service="s3", operation="GetObject", truncate=10)
    answer = aws("s3", proxy.url).get_object(Bucket=BUCKET, Key="big")
    assert answer["ContentLength"] == 1000
    with pytest.raises(ResponseStreamingError):
        answer["Body"].read()
    assert proxy.count("GetObject") == 1


def test_deny_sse_kms_denies_only_encrypted_reads(proxy: Proxy, seed: Seeder) -> None:
    """deny_sse_kms turns an SSE-KMS GetObject into S3's AccessDenied naming kms:Decrypt."""
    seed.object(BUCKET, "plain", "p")
    key_id = seed.sse_kms_object(BUCKET, "enc", "secret")
    proxy.add_rule(deny_sse_kms=True)
    s3 = aws("s3", proxy.url)
    assert s3.get_object(Bucket=BUCKET, Key="plain")["Body"].read() == b"p"
    assert s3.head_object(Bucket=BUCKET, Key="enc")["ServerSideEncryption"] == "aws:kms"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key="enc")
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert "kms:Decrypt" in error["Message"]
    assert key_id in error["Message"]


def test_probability_rule_is_seeded_and_partial(proxy: Proxy, seed: Seeder) -> None:
    """A probability rule fails some calls and not others, and its hits count the failures."""
    seed.bucket(BUCKET)
    rule = proxy.add_rule(operation="HeadBucket", status=500, probability=0.5)
    s3 = aws("s3", proxy.url, attempts=1)
    failures = 0
    for _ in range(40):
        try:
            s3.head_bucket(Bucket=BUCKET)
        except ClientError:
            failures += 1
    assert 5 < failures < 35
    assert rule.hits == failures


def test_latency_applies_to_every_call(proxy: Proxy, seed: Seeder) -> None:
    """latency() delays every request and composes with other rules."""
    seed.bucket(BUCKET)
    s3 = aws("s3", proxy.url)
    s3.head_bucket(Bucket=BUCKET)
    proxy.latency(0.3)
    started = time.monotonic()
    s3.head_bucket(Bucket=BUCKET)
    assert time.monotonic() - started >= 0.3


def test_rule_with_two_actions_is_rejected(proxy: Proxy) -> None:
    """A rule cannot both drop and answer an error."""
    with pytest.raises(ValueError, match="at most one"):
        proxy.add_rule(drop=True, status=500)


# ----------------------------------------------------------------------------- IMDS


def test_imds_creds_reach_the_default_chain(
    imds: Imds,
    imds_env: dict[str, str],
    seed: Seeder,
) -> None:
    """Keys created in moto and served by our IMDS are what boto3's default chain uses."""
    seed.client("iam").create_user(UserName="node")
    key = seed.client("iam").create_access_key(UserName="node")["AccessKey"]
    imds.credentials.access_key_id = key["AccessKeyId"]
    imds.credentials.secret_access_key = key["SecretAccessKey"]
    found = probe_chain(imds_env)
    assert found["method"] == "iam-role"
    assert found["key"] == key["AccessKeyId"]
    assert found["arn"].endswith(":user/node")
    assert all(token for method, _, token in imds.requests if method == "GET")


def test_imds_refuses_imdsv1(imds: Imds) -> None:
    """GETs without a token get 401; with a token from PUT they get the role and credentials."""
    assert imds_get(imds, "/latest/meta-data/iam/security-credentials/") == (401, "")
    assert imds_token(imds.url, ttl=None)[0] == 400
    _, token = imds_token(imds.url)
    assert imds_get(imds, "/latest/meta-data/iam/security-credentials/", token) == (200, imds.role)
    status, body = imds_get(imds, f"/latest/meta-data/iam/security-credentials/{imds.role}", token)
    document = json.loads(body)
    assert (status, document["Code"], document["Type"]) == (200, "Success", "AWS-HMAC")
    assert imds_get(imds, "/latest/meta-data/placement/region", token) == (200, "us-east-1")
    status, body = imds_get(imds, "/latest/dynamic/instance-identity/document", token)
    assert json.loads(body)["region"] == "us-east-1"


@pytest.mark.parametrize(
    "fault",
    [
        {"fail_status": 500},
        {"token_delay": 2.0},
        {"no_role": True},
        {"token_status": 403},
    ],
)
def test_imds_faults_leave_no_credentials(
    imds: Imds,
    imds_env: dict[str, str],
    fault: dict[str, Any],
) -> None:
    """500s, a slow token, no role, or no IMDSv2 token (v1 refused) give boto3 no credentials."""
    for name, value in fault.items():
        setattr(imds, name, value)
    started = time.monotonic()
    assert probe_chain(imds_env)["method"] is None
    assert time.monotonic() - started < 10


def test_imds_fail_times_then_recovers(imds: Imds) -> None:
    """fail_times limits the 500s to the first N requests."""
    imds.fail_status, imds.fail_times = 500, 1
    assert imds_token(imds.url)[0] == 500
    assert imds_token(imds.url)[0] == 200


def test_imds_runs_as_a_script(tmp_path: Path) -> None:
    """The script mode serves credentials from a JSON file and prints its readiness line."""
    creds = tmp_path / "creds.json"
    creds.write_text(
        json.dumps(
            {
                "AccessKeyId": "AKIDSCRIPT",
                "SecretAccessKey": "s",
                "Token": "t",
                "role": "r1",
                "region": "eu-west-1",
            }
        )
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            str(SUPPORT / "imds.py"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--creds-json",
            str(creds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[0] == "ready"
        url = line[1]
        _, token = imds_token(url)
        server = Imds(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
        status, body = imds_get(server, "/latest/meta-data/iam/security-credentials/r1", token)
        assert (status, json.loads(body)["AccessKeyId"]) == (200, "AKIDSCRIPT")
        assert imds_get(server, "/latest/meta-data/placement/region", token)[1] == "eu-west-1"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
