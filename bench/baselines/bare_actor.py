"""S2's and S3's baseline: a bare Dramatiq no-op actor (`dramatiq bench.baselines.bare_actor`).

Dramatiq's Redis broker with its default middleware, on the bench's Valkey. The actor
does nothing but say it ran: with a send time it pushes (send, start) to a list (S2),
without one it counts itself (S3). Its idle polling comes from Dramatiq's own
`dramatiq_worker_timeout` variable, so it can match jobcast's worker; its heartbeat
timeout and maintenance chance are jobcast's (actors/broker.py, which this module
cannot import without building jobcast's broker). jobcast's wake-ups (actors/worker/wakeup.py)
do not apply: the baseline is what Dramatiq offers on its own.
"""

from __future__ import annotations

import json
import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

QUEUE = "bare"
ACTOR = "noop"


def keys(namespace: str) -> tuple[str, str]:
    """(list of S2 timings, S3 counter)."""
    return f"{namespace}:bare:started", f"{namespace}:bare:done"


# As in actors/broker.py.
HEARTBEAT_TIMEOUT_MS = 15_000
MAINTENANCE_CHANCE = 100_000


def broker(redis_url: str, namespace: str) -> RedisBroker:
    return RedisBroker(
        client=Redis.from_url(redis_url),
        namespace=namespace,
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )


def message(sent: float = 0.0) -> dramatiq.Message[None]:
    """A message for the actor, to enqueue from a process that does not declare it."""
    return dramatiq.Message(queue_name=QUEUE, actor_name=ACTOR, args=(sent,), kwargs={}, options={})


if os.environ.get("BENCH_BARE_ACTOR"):  # set in the worker's environment only
    _namespace = os.environ["BENCH_NAMESPACE"]
    _broker = broker(os.environ["REDIS_URL"], _namespace)
    dramatiq.set_broker(_broker)
    _redis = Redis.from_url(os.environ["REDIS_URL"])
    _started, _done = keys(_namespace)

    @dramatiq.actor(queue_name=QUEUE, actor_name=ACTOR, max_retries=0)
    def noop(sent: float) -> None:
        if sent:
            _redis.rpush(_started, json.dumps([sent, time.time()]))
        else:
            _redis.incr(_done)
