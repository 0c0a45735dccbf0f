"""Per-reference credentials: ``?profile=NAME`` and ``?role_arn=ARN`` (vals' parameters).

A profile is a profile of the AWS config files, set on the group's own botocore session
(an unknown one is exit 78, never a silent fallback to other credentials). A role is
assumed with botocore's own AssumeRoleCredentialFetcher (session name ``injector``), from
the group's credentials, once per run, inside the deadline; the assumed keys sign every
call that group makes. A role that cannot be assumed is exit 77 naming the role.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from injector.backends.errors import translate
from injector.errors import AccessDeniedError, ConfigError, InjectorError, UnavailableError

if TYPE_CHECKING:
    from botocore.config import Config as BotoConfig

    from injector.deadline import Deadline

SESSION_NAME = "injector"


class Auth:
    """The profile and/or role of one group of references, and the role's keys once fetched."""

    def __init__(self, session: Any, auth: tuple[tuple[str, str], ...], deadline: Deadline) -> None:  # noqa: ANN401
        """Remember *auth*; the profile is selected and the role assumed on first use."""
        options = dict(auth)
        self.profile, self.role_arn = options.get("profile"), options.get("role_arn")
        self._session, self._deadline = session, deadline
        self._lock = threading.Lock()
        self._keys: dict[str, str] | None = None
        self._error: InjectorError | None = None
        self._profile_set = False

    def describe(self) -> str:
        """Name what these credentials are, for messages (never a key)."""
        parts = [f"profile {self.profile}"] if self.profile else []
        return ", ".join([*parts, *([f"role {self.role_arn}"] if self.role_arn else [])])

    def profile_region(self) -> str | None:
        """Return the profile's own ``region`` setting (None without a profile or setting)."""
        if not self.profile:
            return None
        with self._lock:
            if not self._profile_set:
                use_profile(self._session, self.profile)  # raises ConfigError each time
                self._profile_set = True
            region = self._session.get_config_variable("region")
        return str(region) if region else None

    def client_kwargs(self, region: str, config: BotoConfig) -> dict[str, str]:
        """Return the static keys a client must sign with ({} for a profile only)."""
        with self._lock:
            if self.profile and not self._profile_set:
                use_profile(self._session, self.profile)  # raises ConfigError each time
                self._profile_set = True
            if not self.role_arn:
                return {}
            if self._error is None and self._keys is None:
                try:
                    self._keys = self._assume(self.role_arn, region, config)
                except Exception as exc:  # noqa: BLE001 - reported as the role's failure
                    self._error = _role_error(exc, self.role_arn)
            if self._error is not None:
                raise type(self._error)(self._error.message)
            assert self._keys is not None  # noqa: S101 - set just above
            return self._keys

    def _assume(self, role_arn: str, region: str, config: BotoConfig) -> dict[str, str]:
        from botocore.credentials import AssumeRoleCredentialFetcher  # noqa: PLC0415 - rare path

        self._deadline.check(f"role {role_arn}")
        source = self._session.get_credentials()
        if source is None:
            raise AccessDeniedError("no AWS credentials to assume the role with")

        def create(service: str, **kwargs: Any) -> Any:  # noqa: ANN401
            return self._session.create_client(service, region_name=region, config=config, **kwargs)

        fetcher = AssumeRoleCredentialFetcher(
            create, source, role_arn, extra_args={"RoleSessionName": SESSION_NAME}, cache={}
        )
        keys = fetcher.fetch_credentials()
        return {
            "aws_access_key_id": keys["access_key"],
            "aws_secret_access_key": keys["secret_key"],
            "aws_session_token": keys["token"],
        }


def use_profile(session: Any, profile: str) -> None:  # noqa: ANN401 - botocore session
    """Select *profile* of the AWS config files on *session*; unknown is ConfigError (78)."""
    if profile not in session.available_profiles:
        raise ConfigError(f"profile {profile} is not in the AWS config or credentials files")
    session.set_config_variable("profile", profile)


def _role_error(exc: Exception, role_arn: str) -> InjectorError:
    error = translate(exc, "")
    cls = UnavailableError if isinstance(error, UnavailableError) else AccessDeniedError
    return cls(f"cannot assume role {role_arn} ({error.message})")
