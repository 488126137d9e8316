"""Watching a stack's events from the bench process: one pattern subscription to Redis."""

from __future__ import annotations

import json
import threading
import time

from redis import Redis

from store.keys import Keys
from store.status import TERMINAL


class Finished(threading.Thread):
    """Counts terminal `status` events of a namespace; records when each arrived."""

    def __init__(self, redis_url: str, namespace: str) -> None:
        super().__init__(daemon=True)
        self._pubsub = Redis.from_url(redis_url).pubsub()
        self._pubsub.psubscribe(Keys(namespace).channel_pattern)
        # psubscribe returns before Redis confirms; events before that would be missed.
        while (reply := self._pubsub.get_message(timeout=5)) is None or reply[
            "type"
        ] != "psubscribe":
            pass
        self.times: dict[str, float] = {}
        self.statuses: dict[str, str] = {}
        self._lock = threading.Condition()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            message = self._pubsub.get_message(timeout=0.2)
            if message is None or message["type"] != "pmessage":
                continue
            event = json.loads(message["data"])
            if event["type"] == "status" and event["status"] in TERMINAL:
                with self._lock:
                    self.times[event["job_id"]] = time.time()
                    self.statuses[event["job_id"]] = event["status"]
                    self._lock.notify_all()

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.times) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.times)} of {count} jobs finished in {timeout} s")
                self._lock.wait(left)

    def stop(self) -> None:
        self._done.set()
        self.join()
        self._pubsub.close()
