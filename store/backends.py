"""The connections a process holds: database engine, Redis client, event channel.

Every Redis client of jobcast is built here, with the timeouts below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from redis import BlockingConnectionPool, Redis
from redis import asyncio as aioredis
from sqlalchemy import Engine

from store.db import for_reading, make_engine
from store.events import EventChannel
from store.keys import Keys
from store.settings import Settings

# Timeouts: a Redis that stops answering must surface as an error in seconds, not hang
# a request (redis-py's default socket_timeout is already 5 s; we say so on purpose).
REDIS_SOCKET_TIMEOUT_S = 5.0
REDIS_CONNECT_TIMEOUT_S = 3.0
# Requests beyond this many concurrent Redis commands wait for a connection
# (at most REDIS_SOCKET_TIMEOUT_S) instead of opening more connections.
REDIS_POOL_SIZE = 16
# A connection idle this long is PINGed before use, so a dead one fails fast.
REDIS_HEALTH_CHECK_S = 30
# A pub/sub reader waits indefinitely for the next message; these PINGs are its liveness.
SUBSCRIBER_HEALTH_CHECK_S = 15


@dataclass(frozen=True)
class Backends:
    engine: Engine
    # The same pool for read-only work: on SQLite its transactions take no lock.
    reader: Engine
    redis: Redis
    keys: Keys
    events: EventChannel


def _pool_options(name: str, pool_size: int) -> dict[str, Any]:
    return {
        "max_connections": pool_size,
        "timeout": REDIS_SOCKET_TIMEOUT_S,  # waiting for a free connection
        "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S,
        "health_check_interval": REDIS_HEALTH_CHECK_S,
        # The pid tells processes apart in CLIENT LIST.
        "client_name": f"{name}-{os.getpid()}",
    }


def redis_client(url: str, name: str, pool_size: int = REDIS_POOL_SIZE) -> Redis:
    """A blocking client with at most `pool_size` connections; `name` labels them."""
    pool = BlockingConnectionPool.from_url(url, **_pool_options(name, pool_size))
    return Redis(connection_pool=pool)


def async_redis_client(url: str, name: str, pool_size: int = REDIS_POOL_SIZE) -> aioredis.Redis:
    """The asyncio twin of `redis_client`, for one event loop."""
    pool = aioredis.BlockingConnectionPool.from_url(url, **_pool_options(name, pool_size))
    return aioredis.Redis(connection_pool=pool)


def subscriber_client(url: str, name: str) -> aioredis.Redis:
    """An asyncio client for one long-lived pub/sub reader: no read timeout, PINGs instead."""
    return aioredis.Redis.from_url(
        url,
        client_name=f"{name}-{os.getpid()}",
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        socket_timeout=None,
        health_check_interval=SUBSCRIBER_HEALTH_CHECK_S,
    )


def connect(settings: Settings, name: str) -> Backends:
    """Build (not yet open) the connections of one process; `name` labels its Redis clients."""
    if settings.redis_url is None:
        raise RuntimeError("REDIS_URL is not set")
    keys = Keys(settings.redis_namespace)
    redis = redis_client(settings.redis_url, name)
    engine = make_engine(settings.database_url)
    return Backends(
        engine=engine,
        reader=for_reading(engine),
        redis=redis,
        keys=keys,
        events=EventChannel(redis, keys, ttl=settings.job_ttl),
    )
