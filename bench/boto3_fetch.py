"""The 10-line boto3 alternative: fetch V's S3 object, then exec the command (bench only)."""

import os
import sys

import boto3

bucket, key = os.environ["V"].removeprefix("ref+s3://").split("/", 1)
os.environ["V"] = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
os.execv(sys.argv[1], sys.argv[1:])  # noqa: S606 - the point
