"""Each worker process listens for cancelled jobs and stops their running attempts.

The web process (on any host) records `cancelled` in the database and announces the job
id on one pub/sub channel (store/cancel.py). This thread hears it within milliseconds
and cancels the attempt's pipeline task, which closes its model request. If Redis is
away when the announcement is made, the attempt's lease keeper finds the attempt over
at its next renewal (a quarter of JOBCAST_LEASE at most).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from dramatiq import Middleware
from redis import Redis
from redis.exceptions import RedisError

from actors.worker.active import ACTIVE
from store.keys import Keys

log = logging.getLogger(__name__)

RECONNECT_DELAY_S = 1.0


class CancelWatch(Middleware):
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._stop = threading.Event()

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        threading.Thread(target=self._watch, name="jobcast-cancel-watch", daemon=True).start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except (RedisError, OSError) as error:
                log.warning("cancel watch lost Redis (%s); leases still catch cancels", error)
            self._stop.wait(RECONNECT_DELAY_S)

    def _listen(self) -> None:
        # redis-py leaves pubsub() unannotated.
        with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            pubsub.subscribe(self.keys.cancel_channel)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None or message["type"] != "message":
                    continue
                job_id = message["data"].decode()
                if ACTIVE.stop(job_id, "cancelled"):
                    log.info("job %s: cancelled; its attempt is stopping", job_id)
