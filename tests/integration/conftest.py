"""Fixtures for integration tests: a real moto server, our proxy and IMDS, seed helpers.

- ``moto_server`` (session): the ``moto_server`` process; ``moto`` (function): the same server,
  reset before the test and with IAM enforcement switched back off after it.
- ``proxy`` (function): our recording, fault-injecting proxy in front of moto.
- ``imds`` (function): our IMDSv2 server handing out the fake credentials.
- ``aws_env`` (function): a subprocess environment pointing at moto with fake credentials;
  ``imds_env``: the same but with credentials from ``imds``.
- ``seed`` (function): :class:`tests.support.aws_seed.Seeder` on moto directly.
- ``no_leaks`` (autouse): after every test, no value stored through the seed helpers (or
  handed to ``injector put`` on stdin) appears in the stdout/stderr of any injector run made
  with :mod:`tests.support.runner` (stdout exempt where the test's target prints it).
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import runner  # noqa: E402
from tests.support.aws_seed import RECORDED, Seeder, aws_env_for  # noqa: E402
from tests.support.imds import Imds  # noqa: E402
from tests.support.moto_server import NO_AUTH, MotoServer  # noqa: E402
from tests.support.proxy import Proxy  # noqa: E402

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as an integration test."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail the test if a seeded value shows up in any recorded injector run's output."""
    RECORDED.clear()
    runner.reset()
    yield
    found = runner.leaks(RECORDED | runner.EXTRA_SECRETS)
    assert not found, "secret values leaked: " + "; ".join(found[:5])


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """Return one moto_server process on 127.0.0.1 for the session (log in a tmp dir)."""
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto(moto_server: MotoServer) -> Iterator[MotoServer]:
    """Return the moto server, emptied before the test; IAM enforcement is off again after."""
    moto_server.reset()
    yield moto_server
    if moto_server.auth_changed:
        moto_server.reset_auth(NO_AUTH)


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[Proxy]:
    """Return a fresh proxy in front of moto (no rules, no recorded calls)."""
    server = Proxy(moto.url).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imds() -> Iterator[Imds]:
    """Return an IMDSv2 server on 127.0.0.1 handing out the fake ``testing`` credentials."""
    server = Imds().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto: MotoServer, tmp_path: Path) -> dict[str, str]:
    """Return a subprocess environment for moto: fake keys, us-east-1, no IMDS, no ~/.aws."""
    return aws_env_for(moto.url, tmp_path)


@pytest.fixture
def imds_env(moto: MotoServer, imds: Imds, tmp_path: Path) -> dict[str, str]:
    """Return a subprocess environment for moto whose credentials come from ``imds``."""
    return aws_env_for(moto.url, tmp_path, imds_url=imds.url)


@pytest.fixture
def seed(moto: MotoServer) -> Seeder:
    """Return seed helpers talking to moto directly (not through the proxy)."""
    return Seeder(moto.url)


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    """Give a fresh path under /dev/shm (not created), removed afterwards."""
    path = Path("/dev/shm") / f"injector-test-{uuid.uuid4().hex}"
    yield path
    shutil.rmtree(path, ignore_errors=True)
