"""botocore clients shared by every backend, and the one call/retry path every API call takes.

botocore is used directly (it is boto3's engine, with the same credential chain) because
importing boto3 on top of it costs every start another ~30 ms for nothing we use.

botocore retries throttling, 5xx and connection failures itself. It does not retry an answer
that arrives cut short, nor one that is not what the API promises (an HTML page, JSON cut off
without a Content-Length, a parameter without its value): :func:`call` does, for reads and
writes alike, and after the last attempt such an answer is "unavailable" (69), never "not found".
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from typing import TYPE_CHECKING, Any

# First: injector.backends.boto puts its stubs in place before botocore is imported.
from injector.backends.boto import new_session

# isort: split
from botocore import exceptions as boto
from botocore.config import Config as BotoConfig

from injector import __version__
from injector.backends import transport
from injector.backends.credentials import Auth
from injector.config import Config
from injector.errors import BadDataError, ConfigError, UnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from injector.deadline import Deadline

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
DEFAULT_ATTEMPTS = 5
METADATA_TIMEOUT = "2"
METADATA_ATTEMPTS = "3"
GLOBAL_S3_REGION = "us-east-1"
BODY_ATTEMPTS = 4
MAX_BYTES = Config().max_secret_bytes
REGION_SHAPE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$")


class BadAnswerError(Exception):
    """The store answered, but not what the API promises: retried like a truncated body."""


class BrokenBodyError(BadAnswerError):
    """A body broke off while it was being read: retried like any cut-short answer."""


class Clients:
    """Create botocore clients lazily, once per (service, region), thread-safely."""

    def __init__(
        self,
        deadline: Deadline,
        max_pool: int,
        auth: tuple[tuple[str, str], ...] = (),
        *,
        max_bytes: int = MAX_BYTES,
        direct_http: bool = True,
    ) -> None:
        """Remember the bounds and *auth* (credentials.py); nothing is read or sent yet.

        *direct_http*: clients send over http.client (transport.py), else the stock way.
        """
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.direct_http = direct_http
        self._max_pool = self.max_pool = max_pool
        self._lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._session: Any = None
        self._auth_options = auth
        self.auth: Auth | None = None
        self._default_region: str | None = _environment_region()
        self._metadata_region_done = False

    def get(self, service: str, region: str | None, *, reference: str | None = None) -> Any:  # noqa: ANN401
        """Return the client for *service* in *region* (or the default region)."""
        if region is not None and not REGION_SHAPE.match(region):
            raise ConfigError(f"{region!r} is not an AWS region name", reference=reference)
        with self._lock:
            try:
                if self._session is None:
                    self._session = _session()
                    if self._auth_options:
                        self.auth = Auth(self._session, self._auth_options, self.deadline)
                resolved = region or self._region(service, reference)
            except boto.BotoCoreError as exc:
                raise configuration_error(exc, reference) from None
        key = (service, resolved)
        client = self._clients.get(key)  # made clients are handed out without waiting
        if client is None:
            with self._create_lock:  # one creation at a time: botocore's session is shared
                client = self._clients.get(key)
                if client is None:
                    try:
                        client = self._clients[key] = self._create(service, resolved)
                    except boto.BotoCoreError as exc:
                        raise configuration_error(exc, reference) from None
        return client

    def prepare(self, services: Iterable[tuple[str, str | None]]) -> bool:
        """Resolve the credentials and create the clients of *services* now.

        Called before a fork (injector/split.py): the child inherits the credentials, the
        clients and their TLS context (the CA bundle loaded) instead of asking the metadata
        service or STS again and building its own.
        Runs in a thread of its own, bounded by the deadline; False when it failed or ran
        late: the fetch then stays in one process, which reports the same failure per
        reference.
        """
        resolved: list[bool] = []

        def work() -> None:
            try:
                for service, region in services:
                    transport.warm(self.get(service, region))  # TLS trust loaded once, here
                credentials = self._session.get_credentials()
                if credentials is not None:
                    credentials.get_frozen_credentials()
                    resolved.append(True)
            except Exception:  # noqa: BLE001, S110 - the one-process fetch reports it
                pass

        helper = threading.Thread(target=work, name="injector-prepare", daemon=True)
        helper.start()
        helper.join(self.deadline.remaining())
        return bool(resolved) and not helper.is_alive()

    def _region(self, service: str, reference: str | None) -> str:
        """``?region=`` came first; then the environment, a ``?profile=``'s own, IMDS."""
        if self._default_region is None and self.auth is not None:
            self._default_region = self.auth.profile_region()
        if self._default_region is None and not self._metadata_region_done:
            self._metadata_region_done = True
            self._default_region = _metadata_region(self._session)
        if self._default_region:
            return self._default_region
        if service == "s3":
            return GLOBAL_S3_REGION  # S3 redirects to the bucket's own region
        msg = "no AWS region: set AWS_REGION or add ?region= to the reference"
        raise ConfigError(msg, reference=reference)

    def _create(self, service: str, region: str) -> Any:  # noqa: ANN401
        left = self.deadline.remaining()
        config = BotoConfig(
            connect_timeout=max(0.1, min(CONNECT_TIMEOUT, left)),
            read_timeout=max(0.1, min(READ_TIMEOUT, left)),
            retries={"mode": _retry_mode(), "total_max_attempts": _max_attempts()},
            max_pool_connections=self._max_pool,
            tcp_keepalive=True,
        )
        extra = self.auth.client_kwargs(region, config) if self.auth else {}
        client = self._session.create_client(service, region_name=region, config=config, **extra)
        if self.direct_http:
            transport.adopt(client)
        return client


def _session() -> Any:  # noqa: ANN401 - botocore session
    session = new_session()
    session.user_agent_extra = f"injector/{__version__}"
    session.register("before-parse", _check_body)
    # Timestamps in answers stay the text the service sent, as the AWS CLI keeps them:
    # injector reads none, botocore's credential code takes either form, and dateutil's
    # parser cost ~0.1 ms for every S3 object's Last-Modified.
    factory = session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=as_sent)
    for name, value in (
        ("metadata_service_timeout", METADATA_TIMEOUT),
        ("metadata_service_num_attempts", METADATA_ATTEMPTS),
    ):  # more than the one 1-second attempt botocore gives the metadata service
        if session.get_config_variable(name) in (None, 1, "1"):
            session.set_config_variable(name, value)
    return session


def as_sent(value: object) -> object:
    """Return a timestamp from an answer as it came (botocore's parsers call this)."""
    return value


def configuration_error(exc: Exception, reference: str | None = None) -> ConfigError:
    """Describe a botocore configuration failure (a missing profile, a bad IMDS setting)."""
    if isinstance(exc, boto.ProfileNotFound):
        profile = exc.kwargs.get("profile", "")
        msg = f"AWS_PROFILE names a profile the AWS config files do not have ({profile})"
        return ConfigError(msg, reference=reference)
    if isinstance(exc, boto.InvalidIMDSEndpointModeError | boto.InvalidIMDSEndpointError):
        msg = "AWS_EC2_METADATA_SERVICE_ENDPOINT(_MODE) is not a valid metadata endpoint (mode)"
        return ConfigError(msg, reference=reference)
    if isinstance(exc, boto.NoRegionError):
        return ConfigError("no AWS region: set AWS_REGION", reference=reference)
    return ConfigError(f"AWS configuration rejected ({type(exc).__name__})", reference=reference)


def _check_body(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:  # noqa: ANN401
    """Refuse a buffered answer shorter than its Content-Length: botocore does not check it.

    Parsed as it is, a cut JSON answer reads as an empty success ("not found", "no value").
    """
    if operation_model.has_streaming_output or operation_model.http.get("method") == "HEAD":
        return
    expected = str(response_dict["headers"].get("content-length", ""))
    body = response_dict.get("body")
    if expected.isdigit() and isinstance(body, bytes) and len(body) < int(expected):
        raise boto.IncompleteReadError(actual_bytes=len(body), expected_bytes=int(expected))


RETRIED = (BadAnswerError, boto.IncompleteReadError, boto.ResponseStreamingError)


def call(
    deadline: Deadline,
    method: Callable[..., Any],
    params: dict[str, Any],
    answer: Callable[[Any], Any] = lambda response: response,
) -> Any:  # noqa: ANN401
    """Call *method* and turn its response into the result with *answer*, within the deadline.

    An answer cut short or not what the API promises (*answer* raises BadAnswerError) is
    asked for again, up to BODY_ATTEMPTS times; then it is UnavailableError (69).
    """
    for attempt in range(1, BODY_ATTEMPTS + 1):
        deadline.check("")
        try:
            return answer(method(**params))
        except RETRIED as exc:
            if attempt == BODY_ATTEMPTS or deadline.remaining() <= 0:
                raise UnavailableError(_gave_up(exc, attempt)) from None
            time.sleep(min(deadline.remaining(), _backoff(attempt)))
    raise AssertionError  # pragma: no cover - the loop always returns or raises


def _gave_up(exc: Exception, attempts: int) -> str:
    if isinstance(exc, BrokenBodyError):
        return f"the store's answer kept breaking off ({exc}, {attempts} attempts)"
    if isinstance(exc, BadAnswerError):
        return f"the store's answer is not what the API promises: {exc} ({attempts} attempts)"
    return f"the store's answer kept breaking off ({type(exc).__name__}, {attempts} attempts)"


def _backoff(attempt: int) -> float:
    return float(random.uniform(0, min(2.0, 0.1 * 2**attempt)))  # noqa: S311 - jitter only


def text(value: object, what: str, *, empty: bool = False) -> str:
    """Return *value* if it is a (non-empty) string that is valid Unicode; else BadAnswerError."""
    if not isinstance(value, str) or not (value or empty):
        raise BadAnswerError(f"{what} is missing or not a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadAnswerError(f"{what} is not valid Unicode (a lone surrogate)") from None
    return value


def too_large(cap: int) -> BadDataError:
    """Describe a secret over the cap (65): asking again cannot help."""
    return BadDataError(f"larger than INJECTOR_MAX_SECRET_BYTES ({cap} bytes)")


def _environment_region() -> str | None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _metadata_region(session: Any) -> str | None:  # noqa: ANN401 - botocore session
    """Ask the instance metadata service, configured exactly as botocore's credential lookup.

    botocore's own provider reads AWS_EC2_METADATA_SERVICE_ENDPOINT, its _MODE, the IPv6 flag,
    AWS_EC2_METADATA_DISABLED and the timeouts from the session (environment or config file).
    """
    from botocore.utils import IMDSRegionProvider  # noqa: PLC0415 - rare path

    region: str | None = IMDSRegionProvider(session).provide()
    return region


def _retry_mode() -> str:
    mode = os.environ.get("AWS_RETRY_MODE", "").strip().lower()
    return mode if mode in {"standard", "adaptive"} else "standard"


def _max_attempts() -> int:
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else DEFAULT_ATTEMPTS
