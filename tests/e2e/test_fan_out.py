"""Many browsers on one job: one Redis subscription per web process, identical streams."""

from __future__ import annotations

import asyncio

from redis import Redis

from store.backends import REDIS_POOL_SIZE
from tests.client import Received, connect, read_all, read_until, submit
from tests.stack import Stack

CLIENTS = 200


def web_redis_connections(redis_url: str, web_pid: int) -> dict[str, int]:
    """The web process's Redis connections by client name (names end with the pid)."""
    counts: dict[str, int] = {}
    with Redis.from_url(redis_url) as admin:
        for client in admin.client_list():
            name = client.get("name", "")
            if name.endswith(f"-{web_pid}"):
                role = name.rsplit("-", 1)[0]
                counts[role] = counts.get(role, 0) + 1
    return counts


async def test_200_clients_receive_the_identical_sequence_over_one_subscription(
    stack: Stack, redis_url: str
) -> None:
    with stack.worker_paused():
        job_id = submit(stack, "Everyone is watching")
        sockets = await asyncio.gather(*(connect(stack.events_url(job_id)) for _ in range(CLIENTS)))
        received = [Received() for _ in sockets]
        await asyncio.gather(
            *(read_until(ws, r, lambda m: True) for ws, r in zip(sockets, received, strict=True))
        )
        during = web_redis_connections(redis_url, stack.web.pid)

    await asyncio.gather(*(read_all(ws, r) for ws, r in zip(sockets, received, strict=True)))
    after = web_redis_connections(redis_url, stack.web.pid)

    assert during.get("jobcast-relay") == 1
    assert sum(during.values()) <= 1 + REDIS_POOL_SIZE + 2, during
    assert sum(after.values()) <= 1 + REDIS_POOL_SIZE + 2, after
    reference = received[0]
    assert reference.close_code == 1000
    assert reference.events[-1]["status"] == "completed"
    assert len(reference.events) > 3
    for other in received[1:]:
        assert other.raw[1:] == reference.raw[1:]
        assert other.messages[0]["seq"] == 0
        assert other.close_code == 1000
