"""bench/floor.py turns references into the calls injector makes, and into a curl config."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "bench_floor", Path(__file__).resolve().parents[2] / "bench" / "floor.py"
)
assert SPEC is not None
assert SPEC.loader is not None
floor = importlib.util.module_from_spec(SPEC)
sys.modules["bench_floor"] = floor  # dataclasses look their module up there
SPEC.loader.exec_module(floor)

REFS = [
    *(f"ref+s3://b/k{i}" for i in range(3)),
    *(f"ref+awsssm://app/p{i}" for i in range(12)),
    *(f"ref+awssecrets://app/s{i}" for i in range(21)),
]


def test_calls_are_batched_like_injector() -> None:
    """One GET per object, ten parameter names and twenty secret ids per call."""
    calls = floor.calls_for(REFS)
    assert [c.path for c in calls if c.service == "s3"] == ["/b/k0", "/b/k1", "/b/k2"]
    ssm = [json.loads(c.body)["Names"] for c in calls if c.service == "ssm"]
    assert [len(names) for names in ssm] == [10, 2]
    assert ssm[0][0] == "/app/p0"
    sm = [json.loads(c.body)["SecretIdList"] for c in calls if c.service == "secretsmanager"]
    assert [len(ids) for ids in sm] == [20, 1]
    assert {c.target for c in calls} == {
        None,
        "AmazonSSM.GetParameters",
        "secretsmanager.BatchGetSecretValue",
    }


def test_other_references_are_refused() -> None:
    """A reference the floor cannot send (KMS) is an error, not a silently missing call."""
    with pytest.raises(ValueError, match="S3 objects, SSM parameters"):
        floor.calls_for(["ref+awskms://AQID"])


def test_curl_config_quotes_and_separates_each_call() -> None:
    """Every call is its own transfer (``next``), bodies are quoted, outputs numbered."""
    calls = floor.calls_for(REFS[:1] + REFS[3:4])
    text = floor.curl_config("http://127.0.0.1:9", calls, 16, "/tmp/out")
    assert text.startswith("parallel\nparallel-max = 16\n")
    assert text.count("\nnext\n") == 1
    assert 'url = "http://127.0.0.1:9/b/k0"' in text
    assert 'output = "/tmp/out/0001"' in text
    assert 'data-binary = "{\\"Names\\": [\\"/app/p0\\"], \\"WithDecryption\\": true}"' in text
    assert "/ssm/aws4_request" in text
    assert text.count("fail\n") == 2
    assert 'output = "/dev/null"' in floor.curl_config("http://h", calls, 1, "/dev/null")
