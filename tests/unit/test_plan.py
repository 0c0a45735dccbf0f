"""Planning: which variables receive which secrets, and what is removed."""

from __future__ import annotations

import pytest

from injector import plan
from injector.config import Config
from injector.errors import ConfigError


def test_explicit_references_and_control_vars() -> None:
    """References become deliveries; references and control variables are dropped."""
    environ = {"DB": "ref+s3://b/db", "INJECTOR_TIMEOUT": "5", "KEEP": "x", "BUCKETSUFFIX": "s"}
    result = plan.build(environ, Config())
    assert [d.variable for d in result.deliveries] == ["DB"]
    assert result.drop == {"DB", "INJECTOR_TIMEOUT", "BUCKETSUFFIX"}


def test_seed_convention() -> None:
    """CREDENTIALS_<NAME>=true with BUCKETSUFFIX reads my-secrets-bucket-<suffix>/<NAME>."""
    environ = {"CREDENTIALS_SECRETPASSWORD": "true", "BUCKETSUFFIX": "gtmtech"}
    (delivery,) = plan.build(environ, Config()).deliveries
    assert delivery.variable == "SECRETPASSWORD"
    assert delivery.reference.source.name == "my-secrets-bucket-gtmtech/SECRETPASSWORD"
    assert delivery.trim


def test_seed_bucket_override_and_off_values() -> None:
    """INJECTOR_BUCKET replaces the bucket name; CREDENTIALS_X=false asks for nothing."""
    environ = {"CREDENTIALS_A": "true", "CREDENTIALS_B": "false"}
    (delivery,) = plan.build(environ, Config(bucket="other")).deliveries
    assert delivery.reference.source.name == "other/A"


def test_seed_without_bucket_is_config_error() -> None:
    """CREDENTIALS_* without BUCKETSUFFIX or INJECTOR_BUCKET is a config error."""
    with pytest.raises(ConfigError, match="BUCKETSUFFIX"):
        plan.build({"CREDENTIALS_A": "true"}, Config())


def test_keep_control_vars() -> None:
    """--keep-control-vars leaves INJECTOR_* in the child."""
    result = plan.build({"INJECTOR_TIMEOUT": "5"}, Config(keep_control_vars=True))
    assert result.drop == frozenset()


def test_references_are_unique_and_ordered() -> None:
    """The same reference used twice is resolved once."""
    environ = {"A": "ref+s3://b/k", "B": "ref+s3://b/k", "C": "ref+s3://b/j"}
    refs = plan.build(environ, Config(env_files=("ref+s3://b/k",))).references()
    assert [r.text for r in refs] == ["ref+s3://b/k", "ref+s3://b/j"]


def test_file_suffix_marks_file_delivery() -> None:
    """A *_FILE variable asks for delivery to a file."""
    (delivery,) = plan.build({"PW_FILE": "ref+s3://b/k"}, Config()).deliveries
    assert delivery.to_file


def test_empty_plan_is_false() -> None:
    """With nothing to fetch, the plan is falsy so boto is never imported."""
    assert not plan.build({"PATH": "/bin"}, Config())
