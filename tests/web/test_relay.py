"""The relay: one subscription fans out to every connection; a slow one is cut off alone."""

from __future__ import annotations

import asyncio
import uuid

from redis import Redis

from store.events import EventChannel
from store.keys import Keys
from web.relay import CLOSE_TOO_SLOW, Hub


async def test_a_slow_subscriber_is_ended_with_1013_and_others_get_everything(
    redis_url: str, namespace: str
) -> None:
    keys = Keys(namespace)
    hub = Hub(redis_url, keys)
    await hub.start()
    job_id = uuid.uuid4().hex
    fast = hub.subscribe(job_id)
    slow = hub.subscribe(job_id, limit=5)  # a connection whose client stopped reading
    redis = Redis.from_url(redis_url)
    events = EventChannel(redis, keys, ttl=60)
    try:
        for n in range(20):
            events.publish(job_id, "progress", {"progress": n}, attempt=1)
        got = [await asyncio.wait_for(fast.get(), timeout=5) for _ in range(20)]
        assert [e.seq for e in got] == list(range(1, 21))
        assert fast.close_code is None
        await asyncio.wait_for(slow.ended.wait(), timeout=5)
        assert slow.close_code == CLOSE_TOO_SLOW
    finally:
        redis.close()
        await hub.stop()


async def test_events_of_other_jobs_do_not_reach_a_subscription(
    redis_url: str, namespace: str
) -> None:
    keys = Keys(namespace)
    hub = Hub(redis_url, keys)
    await hub.start()
    mine, other = uuid.uuid4().hex, uuid.uuid4().hex
    sub = hub.subscribe(mine)
    redis = Redis.from_url(redis_url)
    events = EventChannel(redis, keys, ttl=60)
    try:
        events.publish(other, "progress", {"progress": 1}, attempt=1)
        events.publish(mine, "progress", {"progress": 2}, attempt=1)
        event = await asyncio.wait_for(sub.get(), timeout=5)
        assert '"progress": 2' in event.raw
        hub.unsubscribe(sub)
        assert hub.connection_count == 0
    finally:
        redis.close()
        await hub.stop()
