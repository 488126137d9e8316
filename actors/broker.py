"""The Dramatiq broker, built once and installed before any actor is declared.

`actors/__init__.py` imports this module first, so `dramatiq actors` and the web
process (which only enqueues) get the same broker with the same middleware.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from actors.cancel_watch import CancelWatch
from actors.heartbeat import WorkerHeartbeat
from actors.maintenance import Maintenance
from actors.shutdown import DaemonAsyncIO, GracefulShutdown
from actors.wakeup import WakeUps, WakingRedisBroker
from actors.worker_logs import WorkerLogs
from store.backends import redis_client
from store.keys import Keys
from store.settings import Settings

# A worker that stops heart-beating for this long is presumed dead and its unacked
# messages go back to the queue (at the next maintenance pass). Dramatiq's default is 60 s.
HEARTBEAT_TIMEOUT_MS = 15_000
# Out of a million broker commands, how many also run queue maintenance (requeueing the
# messages of dead workers). With Dramatiq's default of 1000 (0.1 %) a killed worker's
# message waited far longer than the heartbeat timeout (docs/PERFORMANCE.md); 10 % costs
# one small Lua call per ten fetches.
MAINTENANCE_CHANCE = 100_000


def build_broker(settings: Settings) -> WakingRedisBroker:
    if settings.redis_url is None:
        raise RuntimeError("REDIS_URL is not set")
    keys = Keys(settings.redis_namespace)
    # Pass a client, not url=: RedisBroker silently ignores client options given with url.
    client = redis_client(settings.redis_url, name="jobcast-broker", pool_size=64)
    broker = WakingRedisBroker(
        wake_ups=WakeUps(client, keys.wake_channel, settings.worker_poll_ms),
        client=client,
        namespace=keys.dramatiq_namespace,
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
        middleware=[
            AgeLimit(),
            TimeLimit(),
            ShutdownNotifications(),
            Callbacks(),
            Pipelines(),
            # Retries are decided by the job lifecycle (attempts counted in the
            # database), so Dramatiq's own retry layer is off for run_job.
            Retries(max_retries=0),
            CurrentMessage(),
            DaemonAsyncIO(),
            WorkerHeartbeat(client, keys, interval=settings.worker_heartbeat_s),
            CancelWatch(redis_client(settings.redis_url, "jobcast-cancel", pool_size=2), keys),
            Maintenance(settings),
            GracefulShutdown(settings.shutdown_grace_s),
            # Last: `after_` hooks run in reverse, so the format applies before the others.
            WorkerLogs(settings),
        ],
    )
    dramatiq.set_broker(broker)
    return broker
