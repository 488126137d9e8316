"""How quickly an idle worker notices a new message.

The Redis broker has no blocking fetch: an idle consumer polls, backing off up to the
worker's `worker_timeout` (1000 ms by default), so a job submitted to an idle worker
waits half a second on average before it starts. The plain `dramatiq` CLI has no option
for it, so this middleware sets it as the worker boots.
"""

from __future__ import annotations

from dramatiq import Broker, Middleware, Worker


class PollInterval(Middleware):
    def __init__(self, max_wait_ms: int) -> None:
        self.max_wait_ms = max_wait_ms

    def before_worker_boot(self, broker: Broker, worker: Worker) -> None:
        worker.worker_timeout = self.max_wait_ms
