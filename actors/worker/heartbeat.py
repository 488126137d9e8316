"""Worker processes announce themselves in Redis so `/health` can count live workers."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

from dramatiq.middleware import Middleware
from redis import Redis, RedisError

from store.keys import Keys

log = logging.getLogger(__name__)


class WorkerHeartbeat(Middleware):
    def __init__(self, redis: Redis, keys: Keys, interval: float) -> None:
        self.redis = redis
        self.keys = keys
        self.interval = interval
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        threading.Thread(target=self._beat, name="jobcast-heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()
        with contextlib.suppress(RedisError):
            self.redis.zrem(self.keys.workers, self.name)

    def _beat(self) -> None:
        while not self._stop.is_set():
            try:
                self.redis.zadd(self.keys.workers, {self.name: time.time()})
            except RedisError as error:
                log.warning("worker heartbeat failed: %s", error)
            self._stop.wait(self.interval)
