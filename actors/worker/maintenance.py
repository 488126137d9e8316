"""Each worker process offers to run the periodic chores: the reconciler (every
JOBCAST_RECONCILE_INTERVAL) and retention (every minute). One worker per interval does
each (store/chores/locks.py), so adding workers adds no load on the database.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from dramatiq import Middleware

from store.chores import reconciler, retention
from store.chores.locks import take_turn
from store.errors import INFRASTRUCTURE_ERRORS
from store.retries import Backoff
from store.settings import Settings

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 60.0


class Maintenance(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        threading.Thread(target=self._run, name="jobcast-maintenance", daemon=True).start()

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        self._stop.set()

    def _run(self) -> None:
        next_retention = time.monotonic()
        while not self._stop.wait(self.settings.reconcile_interval_s):
            try:
                self._reconcile()
                if time.monotonic() >= next_retention:
                    next_retention = time.monotonic() + RETENTION_EVERY_S
                    self._retain()
            except INFRASTRUCTURE_ERRORS as error:
                log.warning("maintenance pass skipped: %s", error)
            except Exception:
                log.exception("maintenance pass failed")

    def _reconcile(self) -> None:
        # Imported here: actors.worker.run imports the broker, whose module imports this one.
        from actors.worker.run import send_again
        from actors.worker.runtime import runtime

        b, s = runtime().backends, self.settings
        if not take_turn(b, "reconcile", s.reconcile_interval_s):
            return
        reconciler.reconcile(
            b,
            lease_s=s.lease_s,
            grace_s=2 * s.reconcile_interval_s,
            backoff=Backoff(s.retry_base_s, s.retry_max_s),
            send=lambda job: send_again(b, job),
        )

    def _retain(self) -> None:
        from actors.worker.runtime import runtime

        b = runtime().backends
        if take_turn(b, "retention", RETENTION_EVERY_S):
            retention.purge(b, self.settings.job_ttl)
