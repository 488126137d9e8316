"""The worker process's long-lived objects, built once on first use."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from functools import lru_cache

from redis.asyncio import BlockingConnectionPool, Redis

from actors.llm import LLMSetup, ModelTiers
from actors.providers import make_provider
from store.async_events import AsyncEventChannel
from store.backends import REDIS_CONNECT_TIMEOUT_S, REDIS_SOCKET_TIMEOUT_S, Backends, connect
from store.settings import Settings, get_settings

# The event channel sends one pipeline at a time (store/async_events.py).
EVENT_CONNECTIONS = 2


@dataclass(frozen=True)
class Runtime:
    backends: Backends
    llm: LLMSetup
    redis_url: str
    ttl: int
    # asyncio clients belong to the loop that uses them (Dramatiq runs one per process).
    _events: dict[asyncio.AbstractEventLoop, AsyncEventChannel] = field(default_factory=dict)

    def events(self) -> AsyncEventChannel:
        """The event channel of the running loop, for publishing without a thread."""
        loop = asyncio.get_running_loop()
        channel = self._events.get(loop)
        if channel is None:
            pool = BlockingConnectionPool.from_url(
                self.redis_url,
                max_connections=EVENT_CONNECTIONS,
                timeout=REDIS_SOCKET_TIMEOUT_S,
                socket_timeout=REDIS_SOCKET_TIMEOUT_S,
                socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
                health_check_interval=30,
                client_name=f"jobcast-events-{os.getpid()}",
            )
            redis = Redis(connection_pool=pool)
            channel = self._events[loop] = AsyncEventChannel(redis, self.backends.keys, self.ttl)
        return channel


def llm_setup(settings: Settings) -> LLMSetup:
    provider = make_provider(settings)
    default = settings.model or provider.default_model
    models = ModelTiers(
        default=default,
        small=settings.model_small or default,
        large=settings.model_large or default,
    )
    return LLMSetup(provider, models, concurrency=settings.llm_concurrency)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    settings = get_settings()
    backends = connect(settings, name="jobcast-worker")  # checks REDIS_URL
    redis_url = settings.redis_url or ""
    return Runtime(backends, llm_setup(settings), redis_url, settings.job_ttl)
