"""botocore clients shared by every backend: one per (service, region), bounded by the deadline.

botocore is used directly (it is boto3's engine, with the same credential chain) because
importing boto3 on top of it costs every start another ~30 ms for nothing we use.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import TYPE_CHECKING, Any

# First: injector.backends.boto puts its stubs in place before botocore is imported.
from injector.backends.boto import new_session

# isort: split
from botocore import exceptions as boto
from botocore.config import Config as BotoConfig

from injector import __version__
from injector.backends.credentials import Auth
from injector.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from injector.deadline import Deadline

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
DEFAULT_ATTEMPTS = 5
METADATA_TIMEOUT = "2"
METADATA_ATTEMPTS = "3"
GLOBAL_S3_REGION = "us-east-1"
BODY_ATTEMPTS = 4


class Clients:
    """Create botocore clients lazily, once per (service, region), thread-safely."""

    def __init__(
        self, deadline: Deadline, max_pool: int, auth: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """Prepare a session (with *auth*'s profile/role, see credentials.py); no network yet."""
        self.deadline = deadline
        self._max_pool = self.max_pool = max_pool
        self._lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._session = new_session()
        self._session.user_agent_extra = f"injector/{__version__}"
        self._session.register("before-parse", _check_body)
        self._tune_metadata()
        self.auth = Auth(self._session, auth, deadline) if auth else None
        self._default_region: str | None = _environment_region()
        self._metadata_region_done = False

    def _tune_metadata(self) -> None:
        """Give the instance-metadata provider more than one 1-second attempt."""
        for name, value in (
            ("metadata_service_timeout", METADATA_TIMEOUT),
            ("metadata_service_num_attempts", METADATA_ATTEMPTS),
        ):
            if self._session.get_config_variable(name) in (None, 1, "1"):
                self._session.set_config_variable(name, value)

    def get(self, service: str, region: str | None, *, reference: str) -> Any:  # noqa: ANN401
        """Return the client for *service* in *region* (or the default region)."""
        with self._lock:
            resolved = region or self._region(service, reference)
        key = (service, resolved)
        client = self._clients.get(key)  # made clients are handed out without waiting
        if client is None:
            with self._create_lock:  # one creation at a time: botocore's session is shared
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = self._create(service, resolved)
        return client

    def _region(self, service: str, reference: str) -> str:
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
        return self._session.create_client(service, region_name=region, config=config, **extra)


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


def call(deadline: Deadline, method: Callable[..., Any], **params: Any) -> Any:  # noqa: ANN401
    """Call an API *method*, calling again when its answer arrived cut short (see _check_body)."""
    for attempt in range(1, BODY_ATTEMPTS + 1):
        try:
            return method(**params)
        except boto.IncompleteReadError:
            if attempt == BODY_ATTEMPTS or deadline.remaining() <= 0:
                raise
            time.sleep(min(deadline.remaining(), _backoff(attempt)))
    raise AssertionError  # pragma: no cover - the loop always returns or raises


def _backoff(attempt: int) -> float:
    return float(random.uniform(0, min(2.0, 0.1 * 2**attempt)))  # noqa: S311 - jitter only


def _environment_region() -> str | None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _metadata_region(session: Any) -> str | None:  # noqa: ANN401 - botocore session
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return None
    from botocore.utils import InstanceMetadataRegionFetcher  # noqa: PLC0415 - rare path

    fetcher = InstanceMetadataRegionFetcher(
        timeout=float(session.get_config_variable("metadata_service_timeout")),
        num_attempts=int(session.get_config_variable("metadata_service_num_attempts")),
    )
    region: str | None = fetcher.retrieve_region()
    return region


def _retry_mode() -> str:
    mode = os.environ.get("AWS_RETRY_MODE", "").strip().lower()
    return mode if mode in {"standard", "adaptive"} else "standard"


def _max_attempts() -> int:
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_ATTEMPTS
