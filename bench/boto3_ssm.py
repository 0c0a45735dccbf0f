"""The boto3 alternative for one SSM SecureString: V's parameter, then exec (bench only)."""

import os
import sys

import boto3

name = "/" + os.environ["V"].removeprefix("ref+awsssm://")
got = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
os.environ["V"] = got["Parameter"]["Value"]
os.execv(sys.argv[1], sys.argv[1:])  # noqa: S606 - the point
