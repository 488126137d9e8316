"""One Redis subscription per web process, fanned out to its WebSocket connections.

The hub PSUBSCRIBEs to every job channel of our namespace on one connection and hands
each event to the subscriptions of that job. Each subscription is a bounded queue: a
connection that cannot keep up is ended (1013) rather than allowed to hold memory or
slow anyone else, and resumes with `?after=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from store.backends import subscriber_client
from store.events import Event
from store.keys import Keys

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
CLOSE_TOO_SLOW = 1013  # "try again later": the client fell too far behind
CLOSE_RELAY_LOST = 1012  # "service restart": the relay lost Redis; resume with ?after=


class Subscription:
    """One connection's queue of its job's events.

    There is one per open WebSocket, so it holds as little as it can: no queue until its
    first event (then kept: making one per event costs more CPU than it saves), a future
    only while a reader waits.
    """

    __slots__ = ("_events", "_waiter", "close_code", "job_id", "limit", "on_end")

    def __init__(self, job_id: str, limit: int = QUEUE_LIMIT) -> None:
        self.job_id = job_id
        self.limit = limit
        self.close_code: int | None = None
        # Called once when the subscription ends: the connection stops serving it.
        self.on_end: Callable[[], None] | None = None
        self._events: deque[Event] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def push(self, event: Event) -> None:
        if self._events is None:
            self._events = deque()
        elif len(self._events) >= self.limit:
            self.end(CLOSE_TOO_SLOW)
            return
        self._events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def end(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            if self.on_end is not None:
                self.on_end()

    async def get(self) -> Event:
        while not self._events:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.popleft()


class Hub:
    def __init__(self, redis_url: str, keys: Keys) -> None:
        self.keys = keys
        self._redis = subscriber_client(redis_url, "jobcast-relay")
        self._subs: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        pubsub = await self._subscribe()
        self._task = asyncio.create_task(self._run(pubsub), name="jobcast-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    def subscribe(self, job_id: str, limit: int = QUEUE_LIMIT) -> Subscription:
        sub = Subscription(job_id, limit)
        if not self.connected.is_set():
            sub.end(CLOSE_RELAY_LOST)
        self._subs.setdefault(job_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.job_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.job_id]

    @property
    def connection_count(self) -> int:
        return sum(len(subs) for subs in self._subs.values())

    async def _subscribe(self) -> PubSub:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
        await pubsub.psubscribe(self.keys.channel_pattern)
        # psubscribe returns before the server confirms; events published before the
        # confirmation would be missed, so wait for it.
        for _ in range(50):
            reply = await pubsub.get_message(timeout=0.1)
            if reply is not None and reply["type"] == "psubscribe":
                break
        else:
            raise TimeoutError("Redis did not confirm the subscription")
        self.connected.set()
        return pubsub

    async def _run(self, pubsub: PubSub) -> None:
        delay = 0.1
        while True:
            try:
                await self._pump(pubsub)
            except (RedisError, OSError) as error:
                log.warning("relay lost Redis (%s); live connections asked to resume", error)
            self.connected.clear()
            for subs in list(self._subs.values()):
                for sub in list(subs):
                    sub.end(CLOSE_RELAY_LOST)
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                try:
                    pubsub = await self._subscribe()
                    delay = 0.1
                    break
                except (RedisError, OSError, TimeoutError):
                    continue

    async def _pump(self, pubsub: PubSub) -> None:
        async for message in pubsub.listen():
            if message["type"] != "pmessage":
                continue
            subs = self._subs.get(self.keys.job_id_of_channel(message["channel"].decode()))
            if not subs:
                continue
            event = Event.parse(message["data"])
            for sub in list(subs):
                sub.push(event)
