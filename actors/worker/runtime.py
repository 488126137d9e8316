"""The worker process's long-lived objects, built once on first use."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, TypeVar

from dramatiq.asyncio import get_event_loop_thread

from actors.pipeline.capacity import Capacity
from actors.pipeline.llm import LLMSetup, ModelTiers
from actors.providers import make_provider
from store.async_events import AsyncEventChannel
from store.backends import Backends, async_redis_client, connect
from store.budgets import Budgets
from store.model_limits import ModelLimits
from store.retries import Backoff
from store.settings import Settings, get_settings

# The event channel sends one pipeline at a time (store/async_events.py).
EVENT_CONNECTIONS = 2
# Model calls reserving and settling capacity (actors/pipeline/capacity.py).
CAPACITY_CONNECTIONS = 4
# The worker's share of its engine's 15 pooled connections (store/db.py): beyond them a
# thread waits for the pool and gives up after 5 s. Dramatiq's threads (hundreds of them)
# claim and complete in batches (actors/worker/batches.py, two connections at most) and
# hand the rest (failed attempts, fair-share claims) to CLAIM_THREADS threads rather
# than each opening a transaction: hundreds of threads contending for the pool and the
# GIL cost more CPU than the work (docs/PERFORMANCE.md). The event loop's own
# database calls (progress copies) use DATABASE_THREADS threads. One connection is left
# for the maintenance thread.
CLAIM_THREADS = 8
DATABASE_THREADS = 6
# Dramatiq holds a thread per in-flight message, even for async actors; each wakes every
# `interrupt_check_ival` (0.1 s by default) to look for an interrupt (the TimeLimit
# backstop). At 500 messages a process that is 5,000 wakeups a second, a large share of
# the worker's CPU (docs/PERFORMANCE.md). Pipelines end themselves (actors/worker/attempt.py):
# once a second is plenty for a backstop.
INTERRUPT_CHECK_S = 1.0


T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    backends: Backends
    llm: LLMSetup
    redis_url: str
    ttl: int
    lease_s: float  # how stale a running attempt's lease is when its worker is lost
    backoff: Backoff  # when a failed attempt's job runs again
    # Where Dramatiq's threads send their database work (see CLAIM_THREADS).
    database: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(CLAIM_THREADS, "jobcast-claims")
    )

    def in_database_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on one of the database threads; blocks this thread until it is done."""
        return self.database.submit(fn, *args).result()

    # asyncio clients belong to the loop that uses them (Dramatiq runs one per process).
    _events: dict[asyncio.AbstractEventLoop, AsyncEventChannel] = field(default_factory=dict)
    # Owners' spending budgets, checked while calls stream (actors/worker/metering.py).
    budgets: Budgets = field(default_factory=lambda: Budgets({}))

    def events(self) -> AsyncEventChannel:
        """The event channel of the running loop, for publishing without a thread."""
        loop = asyncio.get_running_loop()
        return self._events.get(loop) or self._adopt(loop)

    # The limits of this provider's models, by model name, and their window.
    limits: dict[str, ModelLimits] = field(default_factory=dict)
    limit_window_s: float = 60.0
    _capacities: dict[asyncio.AbstractEventLoop, Capacity] = field(default_factory=dict)

    def llm_of_loop(self) -> LLMSetup:
        """The model set-up with the running loop's capacity client."""
        loop = asyncio.get_running_loop()
        capacity = self._capacities.get(loop)
        if capacity is None:
            redis = async_redis_client(self.redis_url, "jobcast-capacity", CAPACITY_CONNECTIONS)
            name, window = self.llm.provider.name, self.limit_window_s
            capacity = Capacity(redis, self.backends.keys, name, self.limits, window)
            self._capacities[loop] = capacity
        return replace(self.llm, capacity=capacity)

    def adopt_loop(self) -> None:
        """Prepare the running loop for attempts (once): its threads, its event channel."""
        self.events()

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> AsyncEventChannel:
        dramatiq_loop = get_event_loop_thread()
        if dramatiq_loop is not None:
            dramatiq_loop.interrupt_check_ival = INTERRUPT_CHECK_S
        loop.set_default_executor(
            ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="jobcast-db")
        )
        redis = async_redis_client(self.redis_url, "jobcast-events", EVENT_CONNECTIONS)
        channel = AsyncEventChannel(redis, self.backends.keys, self.ttl)
        self._events[loop] = channel
        return channel


def llm_setup(settings: Settings) -> LLMSetup:
    provider = make_provider(settings)
    default = settings.model or provider.default_model
    models = ModelTiers(
        default=default,
        small=settings.model_small or default,
        large=settings.model_large or default,
    )
    return LLMSetup(
        provider, models, concurrency=settings.llm_concurrency, prices=settings.price_table
    )


_BUILDING = threading.Lock()


def runtime() -> Runtime:
    """The process's Runtime; the first of the worker threads to ask builds it."""
    with _BUILDING:  # lru_cache alone would let two threads build one each
        return _build()


@lru_cache(maxsize=1)
def _build() -> Runtime:
    settings = get_settings()
    backends = connect(settings, name="jobcast-worker")  # checks REDIS_URL
    redis_url = settings.redis_url or ""
    backoff = Backoff(settings.retry_base_s, settings.retry_max_s)
    llm = llm_setup(settings)
    limits = {m: lim for (p, m), lim in settings.model_limits.items() if p == llm.provider.name}
    built = Runtime(
        backends,
        llm,
        redis_url,
        settings.job_ttl,
        settings.lease_s,
        backoff,
        limits=limits,
        limit_window_s=settings.limit_window_s,
        budgets=settings.budget_table,
    )
    # The modules and what was just built live as long as the process: out of the
    # collector's sight, a full collection scans only what jobs allocate (as web/app.py).
    gc.freeze()
    return built
