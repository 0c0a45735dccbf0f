"""The boto3 alternative for one KMS ciphertext: decrypt V's base64 blob, then exec (bench only)."""

import base64
import os
import sys
from urllib.parse import unquote

import boto3

blob = base64.b64decode(unquote(os.environ["V"].removeprefix("ref+awskms://")))
os.environ["V"] = boto3.client("kms").decrypt(CiphertextBlob=blob)["Plaintext"].decode()
os.execv(sys.argv[1], sys.argv[1:])  # noqa: S606 - the point
