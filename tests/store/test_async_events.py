"""The worker's asyncio channel: many jobs' events in one round trip, each numbered and
checked as a blocking publish would be."""

from __future__ import annotations

import asyncio
import uuid

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from store.async_events import AsyncEventChannel
from store.events import EventChannel
from store.keys import Keys
from tests.fault_fixtures import OwnRedis


async def test_concurrent_jobs_publish_together_each_in_order(
    redis_url: str, namespace: str
) -> None:
    keys = Keys(namespace)
    redis = AsyncRedis.from_url(redis_url)
    events = AsyncEventChannel(redis, keys, ttl=60)
    jobs = [uuid.uuid4().hex for _ in range(50)]

    async def stream(job_id: str) -> list[int]:
        return [
            await events.publish(job_id, "output", {"stage": "s", "delta": f"{n}é✓ "}, attempt=1)
            for n in range(20)
        ]

    try:
        seqs = await asyncio.gather(*(stream(job_id) for job_id in jobs))
    finally:
        await redis.aclose()
    assert seqs == [list(range(1, 21))] * len(jobs)
    with Redis.from_url(redis_url) as sync:
        blocking = EventChannel(sync, keys, ttl=60)
        assert blocking.output_of(jobs[0]) == "".join(f"{n}é✓ " for n in range(20))
        # Refusals hold too: a stale attempt's events are not published.
        blocking.publish(jobs[0], "status", {"status": "running"}, attempt=2)
    redis = AsyncRedis.from_url(redis_url)
    try:
        late = AsyncEventChannel(redis, keys, ttl=60)
        assert await late.publish(jobs[0], "progress", {"progress": 1}, attempt=1) == 0
    finally:
        await redis.aclose()


async def test_publishing_goes_on_after_redis_lost_the_script(own_redis: OwnRedis) -> None:
    keys = Keys("scripts")
    redis = AsyncRedis.from_url(own_redis.url)
    events = AsyncEventChannel(redis, keys, ttl=60)
    try:
        assert await events.publish("j", "progress", {"progress": 1}, attempt=1) == 1
        await redis.script_flush()
        assert await events.publish("j", "progress", {"progress": 2}, attempt=1) == 2
    finally:
        await redis.aclose()
