"""Graceful shutdown: on SIGTERM a worker lets its running jobs finish for
JOBCAST_SHUTDOWN_GRACE seconds, then hands the rest back.

Handing back stops the attempt (its model request is closed), records the job as
`retrying` due at once (error code `worker_shutdown`) and sends its message, so another
worker, or this one once restarted, starts it again. Keep the grace below what your
supervisor allows before it kills (Docker: 10 s, Kubernetes: 30 s); a worker killed
anyway loses its jobs to the reconciler a lease later, not forever.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from dramatiq import Middleware

from actors.active import ACTIVE

log = logging.getLogger(__name__)


class GracefulShutdown(Middleware):
    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if len(ACTIVE):
            log.info("shutting down: %d jobs have %s s to finish", len(ACTIVE), self.grace_s)
        timer = threading.Timer(self.grace_s, self._hand_back)
        timer.daemon = True
        timer.start()

    def _hand_back(self) -> None:
        count = ACTIVE.stop_all("shutdown")
        if count:
            log.warning("handing back %d jobs still running after %s s", count, self.grace_s)
