"""The boto3 alternative for one Secrets Manager secret: V's secret, then exec (bench only)."""

import os
import sys

import boto3

name = os.environ["V"].removeprefix("ref+awssecrets://")
os.environ["V"] = boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
os.execv(sys.argv[1], sys.argv[1:])  # noqa: S606 - the point
