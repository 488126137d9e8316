"""At-least-once delivery: the same run_job message twice runs the pipeline once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

from store.keys import QUEUE, Keys
from tests.client import Received, connect, get_job, read_all, read_until, submit
from tests.stack import Stack


@pytest.fixture
def broker(redis_url: str, namespace: str) -> Iterator[RedisBroker]:
    client = Redis.from_url(redis_url)
    namespace = Keys(namespace).dramatiq_namespace
    broker = RedisBroker(client=client, namespace=namespace)
    broker.declare_queue(QUEUE)
    yield broker
    client.close()


def send_run_job(broker: RedisBroker, job_id: str) -> None:
    message: Message[None] = Message(
        queue_name=QUEUE, actor_name="run_job", args=(job_id,), kwargs={}, options={}
    )
    broker.enqueue(message)


def duplicates_seen(redis_url: str, namespace: str) -> int:
    with Redis.from_url(redis_url) as client:
        return int(client.get(Keys(namespace).duplicate_deliveries) or 0)


def wait_for_duplicates(redis_url: str, namespace: str, count: int) -> None:
    """The worker counts skipped deliveries in Redis; wait for it to reach `count`."""
    deadline = time.monotonic() + 20
    while duplicates_seen(redis_url, namespace) < count:
        assert time.monotonic() < deadline, "the duplicate message was never processed"
        time.sleep(0.05)


async def test_a_message_delivered_twice_runs_the_job_once(
    stack: Stack, broker: RedisBroker, redis_url: str, namespace: str
) -> None:
    before = duplicates_seen(redis_url, namespace)
    with stack.worker_paused():
        job_id = submit(stack, "Only once")  # the API sends the first message
        send_run_job(broker, job_id)  # the same message again, as a redelivery would
        ws = await connect(stack.events_url(job_id))
        received = Received()
        await read_until(ws, received, lambda m: True)
    await read_all(ws, received)
    wait_for_duplicates(redis_url, namespace, before + 1)

    statuses = [e["status"] for e in received.events if e["type"] == "status"]
    assert statuses == ["running", "completed"]
    job = get_job(stack, job_id)
    assert (job["attempts"], job["usage"]["llm_calls"]) == (1, 1)

    # A late redelivery after the job finished changes nothing either.
    send_run_job(broker, job_id)
    wait_for_duplicates(redis_url, namespace, before + 2)
    assert get_job(stack, job_id) == job
