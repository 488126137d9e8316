"""The Dramatiq broker, built when this module is imported, before any actor is declared.

Like Dramatiq's own `my_broker.py` example: the module that declares actors
(actors/worker/run.py) imports `broker` from here, so `dramatiq actors` and the web process
(which only enqueues) get the same broker with the same middleware. Building it does
no I/O: redis-py and pika connect on first use, and the worker's start-up check is a
middleware that runs as a worker boots (actors/worker/preflight.py).

JOBCAST_BROKER picks where messages wait: Redis (the default, with wake-ups) or RabbitMQ
(actors/rabbit.py). The middleware is the same on both; Redis carries events either way.
"""

from __future__ import annotations

import dramatiq
from dramatiq import Broker, Middleware
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from pika.exceptions import AMQPError
from redis import Redis, RedisError

from actors.rabbit import SendingRabbitmqBroker, rabbitmq_broker
from actors.worker.cancel_watch import CancelWatch
from actors.worker.exposition import WorkerMetrics
from actors.worker.heartbeat import WorkerHeartbeat
from actors.worker.logs import WorkerLogs
from actors.worker.maintenance import Maintenance
from actors.worker.preflight import Preflight
from actors.worker.shutdown import DaemonAsyncIO, GracefulShutdown
from actors.worker.tracing import TraceMessages
from actors.worker.wakeup import WakeUps, WakingRedisBroker
from store.backends import redis_client
from store.keys import Keys
from store.preflight import require_redis
from store.settings import Settings, settings_or_exit

# A worker that stops heart-beating for this long is presumed dead and its unacked
# messages go back to the queue (at the next maintenance pass). Dramatiq's default is 60 s.
HEARTBEAT_TIMEOUT_MS = 15_000
# Out of a million broker commands, how many also run queue maintenance (requeueing the
# messages of dead workers). With Dramatiq's default of 1000 (0.1 %) a killed worker's
# message waited far longer than the heartbeat timeout (docs/PERFORMANCE.md); 10 % costs
# one small Lua call per ten fetches.
MAINTENANCE_CHANCE = 100_000


# What a failed send raises, whichever the broker: the callers of `send_job` catch these.
SEND_ERRORS: tuple[type[Exception], ...] = (RedisError, BrokerConnectionError)


def build_broker(settings: Settings) -> Broker:
    redis_url = require_redis(settings)  # unset: one line and exit 2
    keys = Keys(settings.redis_namespace)
    # Pass a client, not url=: RedisBroker silently ignores client options given with url.
    client = redis_client(redis_url, name="jobcast-broker", pool_size=64)
    middleware = _middleware(settings, redis_url, keys, client)
    broker: Broker
    if settings.broker == "rabbitmq" and settings.rabbitmq_url:  # the settings require the URL
        broker = rabbitmq_broker(settings.rabbitmq_url, middleware)
    else:
        broker = WakingRedisBroker(
            wake_ups=WakeUps(client, keys.wake_channel, settings.worker_poll_ms),
            client=client,
            namespace=keys.dramatiq_namespace,
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=MAINTENANCE_CHANCE,
            middleware=middleware,
        )
    dramatiq.set_broker(broker)
    return broker


def _middleware(settings: Settings, redis_url: str, keys: Keys, client: Redis) -> list[Middleware]:
    """The same on either broker: all of it is about jobs and workers, not about queues."""
    return [
        Preflight(settings),  # first: nothing else boots when a dependency is down
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # Retries are decided by the job lifecycle (attempts counted in the
        # database), so Dramatiq's own retry layer is off for run_job.
        Retries(max_retries=0),
        CurrentMessage(),
        TraceMessages(settings),
        WorkerMetrics(settings),
        DaemonAsyncIO(),
        WorkerHeartbeat(client, keys, interval=settings.worker_heartbeat_s),
        CancelWatch(redis_client(redis_url, "jobcast-cancel", pool_size=2), keys),
        Maintenance(settings),
        GracefulShutdown(settings.shutdown_grace_s),
        # Last: `after_` hooks run in reverse, so the format applies before the others.
        WorkerLogs(settings),
    ]


broker = build_broker(settings_or_exit())


def queue_health() -> dict[str, str]:
    """For `/health`: RabbitMQ's state when it carries the queue (`{}` on Redis, whose
    state the web checks itself)."""
    if not isinstance(broker, SendingRabbitmqBroker):
        return {}
    try:
        broker.check()
    except (AMQPError, OSError) as error:
        return {"rabbitmq": f"down: {type(error).__name__}"}
    return {"rabbitmq": "ok"}
