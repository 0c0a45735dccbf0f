"""What the Docker Engine says about a container, over the operator-configured socket only.

The Docker SDK for Python (``docker``) is imported on first use: only the agent pays for it.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, NamedTuple

ENGINE_DEFAULT = "unix:///var/run/docker.sock"
_TIMEOUT = 5


class EngineError(Exception):
    """The engine could not be asked (down, timed out, answered nonsense)."""


class NoSuchContainerError(Exception):
    """The engine knows no such container."""


class Facts(NamedTuple):
    """The facts of one container the decision needs (no environment, never a value)."""

    id: str
    name: str
    image_id: str
    running: bool
    pid: int
    started_at: float  # seconds since the epoch
    labels: dict[str, str]
    image_labels: dict[str, str]
    privileged: bool
    host_pid: bool


class Engine:
    """A lazily connected engine client, shared by the request threads."""

    def __init__(self, url: str = ENGINE_DEFAULT, timeout: float = _TIMEOUT) -> None:
        """Remember where the engine is; connect on first use."""
        self.url = url
        self.timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def _api(self) -> Any:  # noqa: ANN401 - docker.APIClient is untyped
        with self._lock:
            if self._client is None:
                import docker  # noqa: PLC0415 - only the agent pays for the SDK

                try:
                    client = docker.APIClient(
                        base_url=self.url, version="auto", timeout=self.timeout
                    )
                except docker.errors.DockerException as exc:
                    raise EngineError(f"cannot reach the engine at {self.url}: {exc}") from None
                self._client = client
            return self._client

    def ping(self) -> bool:
        """Tell whether the engine answers."""
        try:
            return bool(self._api().ping())
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            self._drop()
            return False

    def facts(self, container_id: str) -> Facts:
        """Inspect the container and its image."""
        import docker  # noqa: PLC0415

        api = self._api()
        try:
            info = api.inspect_container(container_id)
            image = api.inspect_image(info["Image"])
        except docker.errors.NotFound:
            raise NoSuchContainerError(container_id) from None
        except (docker.errors.DockerException, OSError) as exc:
            self._drop()
            raise EngineError(f"the engine did not answer: {type(exc).__name__}") from None
        except (KeyError, TypeError) as exc:
            raise EngineError(f"the engine answered without {exc}") from None
        return facts_from(info, image)

    def _drop(self) -> None:
        with self._lock:
            self._client = None


def facts_from(info: dict[str, Any], image: dict[str, Any]) -> Facts:
    """Build Facts from ``GET /containers/{id}/json`` and ``GET /images/{id}/json``."""
    state = info.get("State") or {}
    config = info.get("Config") or {}
    host = info.get("HostConfig") or {}
    image_config = image.get("Config") or {}
    return Facts(
        id=str(info["Id"]),
        name=str(info.get("Name", "")).lstrip("/"),
        image_id=str(info.get("Image", "")),
        running=bool(state.get("Running")),
        pid=int(state.get("Pid") or 0),
        started_at=parse_time(str(state.get("StartedAt", ""))),
        labels=dict(config.get("Labels") or {}),
        image_labels=dict(image_config.get("Labels") or {}),
        privileged=bool(host.get("Privileged")),
        host_pid=host.get("PidMode") == "host",
    )


def parse_time(text: str) -> float:
    """Parse the engine's RFC 3339 time (nanoseconds, ``Z``) to epoch seconds; 0 if unset."""
    if not text or text.startswith("0001-"):
        return 0.0
    main, _, rest = text.partition(".")
    fraction = ""
    zone = "+00:00"
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:] or zone
    elif main.endswith("Z"):
        main = main[:-1]
    elif main[-6:-5] in {"+", "-"}:  # an explicit offset and no fraction
        main, zone = main[:-6], main[-6:]
    zone = "+00:00" if zone in {"Z", ""} else zone
    stamp = dt.datetime.fromisoformat(main + zone)
    return stamp.timestamp() + (float("0." + fraction) if fraction else 0.0)


def run_time_labels(facts: Facts, *, trust_image_labels: bool) -> dict[str, str]:
    """Container labels minus the image's labels with the same value (unless trusted)."""
    if trust_image_labels:
        return dict(facts.labels)
    return {k: v for k, v in facts.labels.items() if facts.image_labels.get(k) != v}
