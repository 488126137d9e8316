"""The connections a process holds: database engine, Redis client, event channel."""

from __future__ import annotations

import os
from dataclasses import dataclass

from redis import BlockingConnectionPool, Redis
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


@dataclass(frozen=True)
class Backends:
    engine: Engine
    # The same pool for read-only work: on SQLite its transactions take no lock.
    reader: Engine
    redis: Redis
    keys: Keys
    events: EventChannel


def redis_client(url: str, name: str, pool_size: int = REDIS_POOL_SIZE) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=REDIS_SOCKET_TIMEOUT_S,
        socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        health_check_interval=30,
        # The pid tells processes apart in CLIENT LIST.
        client_name=f"{name}-{os.getpid()}",
    )
    return Redis(connection_pool=pool)


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
