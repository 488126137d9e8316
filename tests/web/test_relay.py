"""The relay: one subscription fans out to every connection; a slow one is cut off alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis import Redis

from store.events import EventChannel
from store.keys import Keys
from web.relay import CLOSE_TOO_SLOW, Hub


@pytest.fixture
async def hub(redis_url: str, namespace: str) -> AsyncIterator[Hub]:
    running = Hub(redis_url, Keys(namespace))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def events(redis_url: str, namespace: str) -> Iterator[EventChannel]:
    redis = Redis.from_url(redis_url)
    yield EventChannel(redis, Keys(namespace), ttl=60)
    redis.close()


async def test_a_slow_subscriber_is_ended_with_1013_and_others_get_everything(
    hub: Hub, events: EventChannel
) -> None:
    job_id = uuid.uuid4().hex
    fast = hub.subscribe(job_id)
    slow = hub.subscribe(job_id, limit=5)  # a connection whose client stopped reading
    for n in range(20):
        events.publish(job_id, "progress", {"progress": n}, attempt=1)
    got = [await asyncio.wait_for(fast.get(), timeout=5) for _ in range(20)]
    assert [e.seq for e in got] == list(range(1, 21))
    assert fast.close_code is None
    # Each event reaches every subscription before the next one: `slow` had all 20 offered.
    assert slow.close_code == CLOSE_TOO_SLOW


async def test_events_of_other_jobs_do_not_reach_a_subscription(
    hub: Hub, events: EventChannel
) -> None:
    mine, other = uuid.uuid4().hex, uuid.uuid4().hex
    sub = hub.subscribe(mine)
    events.publish(other, "progress", {"progress": 1}, attempt=1)
    events.publish(mine, "progress", {"progress": 2}, attempt=1)
    event = await asyncio.wait_for(sub.get(), timeout=5)
    assert '"progress": 2' in event.raw
    hub.unsubscribe(sub)
    assert hub.connection_count == 0
