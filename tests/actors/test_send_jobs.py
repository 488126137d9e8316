"""send_jobs: the messages of many new jobs in one round trip, on the real broker and Redis.

What must still hold for each message: Dramatiq's middleware sees its enqueue (before and
after), the job is marked as sent (the reconciler leaves it alone), and each queue's
consumers hear one wake-up. Delivery and running are tests/e2e/test_batches.py's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq import Broker, Message, Middleware

from actors import broker, send_jobs
from actors.worker.wakeup import WakingRedisBroker
from store import jobs
from store.backends import Backends
from store.keys import QUEUE, QUEUE_HIGH


class Recorder(Middleware):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int) -> None:
        self.seen.append(("before", message.args[0]))

    def after_enqueue(self, broker: Broker, message: Message[Any], delay: int) -> None:
        self.seen.append(("after", message.args[0]))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    added = Recorder()
    broker.add_middleware(added)
    yield added
    broker.middleware.remove(added)


def test_many_jobs_are_sent_marked_and_announced_once_per_queue(
    backends: Backends, recorder: Recorder
) -> None:
    assert isinstance(broker, WakingRedisBroker)  # the suite's default broker
    made = [
        jobs.create(backends, type="chat", params={"prompt": "many"}, priority=p) for p in (1, 0, 0)
    ]
    with broker.client.pubsub() as pubsub:
        pubsub.subscribe(broker.wake_ups.channel)
        assert _next(pubsub)["type"] == "subscribe"
        send_jobs(backends, made)
        broker.client.publish(broker.wake_ups.channel, "end of test")  # the last one heard
        heard = []
        while (data := _next(pubsub)["data"].decode()) != "end of test":
            heard.append(data)
    ids = [job.id for job in made]
    assert sorted(heard) == sorted([QUEUE, QUEUE_HIGH])
    # The `enqueued` marks are not checked here: under xdist a session stack's worker
    # shares this namespace and may take a message (and its mark) at once.
    assert sorted(recorder.seen) == sorted([(hook, i) for i in ids for hook in ("before", "after")])


def _next(pubsub: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (message := pubsub.get_message(timeout=1.0)) is not None:
            return dict(message)
    raise AssertionError("nothing heard on the wake-up channel")
