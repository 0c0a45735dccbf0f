"""Backend edges: error translation, SSM path walks that lie, YAML limits, role credentials."""

from __future__ import annotations

import pytest
import yaml
from botocore import exceptions as boto

from injector import yamldoc
from injector.backends import aws, ssm_path
from injector.backends.credentials import Auth
from injector.backends.errors import translate
from injector.deadline import Deadline
from injector.errors import (
    AccessDeniedError,
    BadDataError,
    ConfigError,
    SecretNotFoundError,
    UnavailableError,
)
from injector.references import parse

URL = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("exc", "error", "start"),
    [
        (boto.ParamValidationError(report="bad"), ConfigError, "ref: the store rejected"),
        (
            boto.ClientError(
                {"Error": {"Code": "Odd"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "Get"
            ),
            SecretNotFoundError,
            "ref: not found (Odd)",
        ),
        (boto.ConnectTimeoutError(endpoint_url=URL), UnavailableError, "ref: cannot connect"),
        (boto.EndpointConnectionError(endpoint_url=URL), UnavailableError, "ref: cannot connect"),
        (boto.ReadTimeoutError(endpoint_url=URL), UnavailableError, "ref: the store did not"),
    ],
)
def test_translate(exc: Exception, error: type[Exception], start: str) -> None:
    """Failures of botocore map to the documented error class, with a one-line message."""
    found = translate(exc, "ref")
    assert isinstance(found, error)
    assert str(found).startswith(start)
    assert "\n" not in str(found)


class _Clients:
    def __init__(self, pages: list[dict[str, object]]) -> None:
        self.deadline = Deadline(30)
        self.max_bytes = 1 << 20
        self.pages = pages

    def get(self, _service: str, _region: str | None) -> _Clients:
        return self

    def get_parameters_by_path(self, **_params: object) -> dict[str, object]:
        return self.pages.pop(0) if self.pages else {"Parameters": [], "NextToken": "again"}


SOURCE = parse("ref+awsssm://prod/app/", many=True).source


def _page(token: str) -> dict[str, object]:
    return {"Parameters": [{"Name": f"/prod/app/{token}", "Value": "v"}], "NextToken": token}


def test_repeated_page_token_is_65() -> None:
    """A store that hands out the same NextToken twice is bad data, not an endless walk."""
    with pytest.raises(BadDataError, match="repeated a page token") as caught:
        ssm_path.walk(SOURCE, _Clients([_page("t1"), _page("t1")]))  # type: ignore[arg-type]
    assert caught.value.exit_code == 65


def test_too_many_pages_is_65(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk stops with 65 after MAX_PAGES pages."""
    monkeypatch.setattr(ssm_path, "MAX_PAGES", 2)
    with pytest.raises(BadDataError, match="more than 2 pages"):
        ssm_path.walk(SOURCE, _Clients([_page("t1"), _page("t2")]))  # type: ignore[arg-type]


def test_page_without_parameters_list_is_69(monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer without its Parameters list is retried, then unavailable (69)."""
    monkeypatch.setattr(aws, "BODY_ATTEMPTS", 1)
    with pytest.raises(UnavailableError) as caught:
        ssm_path.walk(SOURCE, _Clients([{"Parameters": "x"}]))  # type: ignore[arg-type]
    assert caught.value.exit_code == 69


def test_yaml_above_the_size_cap_is_65() -> None:
    """A YAML document above 1 MiB is refused before parsing, with no part of it shown."""
    with pytest.raises(BadDataError) as caught:
        yamldoc.loads(b"k: " + b"v" * yamldoc.MAX_BYTES, reference="r")
    assert "vvv" not in str(caught.value)


def test_yaml_nested_too_deeply_to_parse_is_65() -> None:
    """A document nested beyond the parser's recursion is bad data, not a crash."""
    with pytest.raises(BadDataError, match="nested too deeply"):
        yamldoc.loads(b"[" * 100_000, reference="r")


def test_yaml_nested_too_deeply_to_convert_is_65(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parsed tree too deep to convert is bad data too."""
    node = yaml.ScalarNode("tag:yaml.org,2002:str", "leaf")
    for _ in range(50_000):
        node = yaml.SequenceNode("tag:yaml.org,2002:seq", [node])
    monkeypatch.setattr(yaml, "compose", lambda *_a, **_k: node)
    with pytest.raises(BadDataError, match="nested too deeply"):
        yamldoc.loads(b"a: b", reference="r")


class _NoCredentials:
    available_profiles = ("dev",)

    def set_config_variable(self, _name: str, _value: str) -> None:
        """Accept the profile."""

    def get_credentials(self) -> None:
        return None


def test_auth_describes_profile_and_role() -> None:
    """Messages name the profile and the role, never a key."""
    auth = Auth(object(), (("profile", "dev"), ("role_arn", "arn:aws:iam::1:role/r")), Deadline(5))
    assert auth.describe() == "profile dev, role arn:aws:iam::1:role/r"
    assert Auth(object(), (), Deadline(5)).describe() == ""


def test_role_without_source_credentials_is_77_each_time() -> None:
    """A role with no credentials to assume it from is 77 naming the role, on every client."""
    auth = Auth(
        _NoCredentials(), (("profile", "dev"), ("role_arn", "arn:aws:iam::1:role/r")), Deadline(5)
    )
    for _ in range(2):
        with pytest.raises(AccessDeniedError) as caught:
            auth.client_kwargs("us-east-1", None)  # type: ignore[arg-type]
        assert caught.value.exit_code == 77
        assert str(caught.value) == (
            "cannot assume role arn:aws:iam::1:role/r (no AWS credentials to assume the role with)"
        )
