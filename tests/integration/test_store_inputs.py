"""What injector sends to and takes from the stores (findings j, f): regions, names, selectors.

A bad ``?region=``, an S3 key that is not UTF-8 once percent-decoded, an encryption context
too deep or too long, an AWS_PROFILE that does not exist: configuration errors (78) in one
line, never 69 or a traceback. ``/x`` and ``/x:1`` each get their own value; JSON values come
as stored; the metadata region is found where botocore's credential lookup looks.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import pytest

from tests.support import runner

pytestmark = pytest.mark.integration


def env_for(aws_env, **extra: str) -> dict[str, str]:
    """Return the environment for injector on moto plus *extra*."""
    return {**aws_env, "PATH": os.environ["PATH"], "INJECTOR_TIMEOUT": "20", **extra}


def assert_config_error(result: runner.Run, reference: str | None = None) -> None:
    """Assert exit 78, a single JSON error line naming *reference*, no traceback."""
    assert result.code == 78, result.err
    assert "Traceback" not in result.err
    failed = result.events()[-1]
    assert failed["event"] == "failed"
    if reference is not None:
        assert failed["reference"] == reference


@pytest.mark.parametrize("region", ["nowhere", "us-east-1; rm", "US-EAST-1", "x" * 70])
def test_region_that_is_not_region_shaped_is_78(aws_env, seed, region) -> None:
    """?region= must look like an AWS region name; anything else is configuration, not 69/66."""
    seed.parameter("/r", "region-test-value")
    reference = f"ref+awsssm://r?region={quote(region)}"
    assert_config_error(runner.run(env_for(aws_env, R=reference), "true"), reference)


def test_s3_key_not_utf8_after_percent_decoding_is_78(aws_env, seed) -> None:
    """%ff is refused instead of becoming U+FFFD, which named (and fetched) another object."""
    seed.object("keys", "a\ufffd", "the-replacement-char-object")
    reference = "ref+s3://keys/a%ff"
    result = runner.run(env_for(aws_env, K=reference), "env", "-0")
    assert_config_error(result, reference)
    assert b"the-replacement-char-object" not in result.stdout


@pytest.mark.parametrize(
    "context", ["[" * 5000, '{"k":"' + "v" * 9000 + '"}'], ids=["too_deep", "too_long"]
)
def test_kms_context_too_deep_or_too_long_is_78(aws_env, seed, context) -> None:
    """A context nested past the parser's depth or longer than KMS allows is 78, not 69/70."""
    blob = seed.kms_encrypt("context-test-value")
    reference = f"ref+awskms://{blob}?context={quote(context, safe='')}"
    result = runner.run(env_for(aws_env, K=reference), "true")
    assert_config_error(result)
    assert "context" in result.events()[-1]["error"]


def test_name_and_name_with_version_each_get_their_own_value(aws_env, moto) -> None:
    """/x and /x:1 in one run: the latest and version 1, not one value for both (or 66)."""
    ssm = moto.client("ssm")
    ssm.put_parameter(Name="/x", Value="x-version-one", Type="SecureString")
    ssm.put_parameter(Name="/x", Value="x-version-two", Type="SecureString", Overwrite=True)
    extra = {"NOW": "ref+awsssm://x", "OLD": "ref+awsssm://x:1", "PIN": "ref+awsssm://x?version=1"}
    env = runner.run(env_for(aws_env, **extra), "env", "-0", target_prints=True).child_env()
    assert (env[b"NOW"], env[b"OLD"], env[b"PIN"]) == (
        b"x-version-two",
        b"x-version-one",
        b"x-version-one",
    )


STORED_JSON = '{"n": 1e3, "big": 1E400, "s": "caf\\u00e9",  "sp" : [1 , 2]}\n'


def test_json_values_are_delivered_as_stored(aws_env, moto, seed) -> None:
    """A JSON value from SSM and from Secrets Manager arrives byte for byte as stored."""
    moto.client("ssm").put_parameter(Name="/json", Value=STORED_JSON, Type="SecureString")
    seed.secret("json", STORED_JSON)
    extra = {"P": "ref+awsssm://json", "S": "ref+awssecrets://json"}
    env = runner.run(env_for(aws_env, **extra), "env", "-0", target_prints=True).child_env()
    assert env[b"P"] == env[b"S"] == STORED_JSON.encode()


def test_profile_that_does_not_exist_is_78_in_one_line(aws_env, seed) -> None:
    """AWS_PROFILE naming no profile is a configuration error naming it, not a traceback (70)."""
    seed.parameter("/p", "profile-test-value")
    result = runner.run(env_for(aws_env, AWS_PROFILE="no-such-profile", P="ref+awsssm://p"), "true")
    assert_config_error(result)
    assert "no-such-profile" in result.events()[-1]["error"]
    assert len([line for line in result.err.splitlines() if line.strip()]) <= 2


def test_metadata_region_honours_the_metadata_endpoint_variables(imds_env, imds, moto) -> None:
    """Without AWS_REGION the region comes from the IMDS AWS_EC2_METADATA_SERVICE_ENDPOINT names.

    Its _MODE is read the same way (IPv6 with an explicit endpoint keeps the endpoint).
    """
    imds.region = "eu-west-1"
    moto.client("ssm", region_name="eu-west-1").put_parameter(
        Name="/where", Value="found-in-eu-west-1", Type="SecureString"
    )
    env = {k: v for k, v in imds_env.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPv6", W="ref+awsssm://where")
    result = runner.run(env_for(env), "env", "-0", target_prints=True)
    assert result.child_env()[b"W"] == b"found-in-eu-west-1"


def test_bad_metadata_endpoint_mode_is_78(imds_env, seed) -> None:
    """An AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE botocore rejects is configuration (78)."""
    seed.parameter("/m", "mode-test-value")
    env = {k: v for k, v in imds_env.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE="IPv5", M="ref+awsssm://m")
    assert_config_error(runner.run(env_for(env), "true"))
