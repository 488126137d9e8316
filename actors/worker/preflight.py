"""A worker checks Redis and the database as it boots, not when `actors` is imported.

Importing `actors` does no I/O: the web process imports it to enqueue, and checks its
dependencies in its own lifespan (web/dependencies.py). The dramatiq CLI imports
`actors` in each worker process, then boots the worker: this middleware is the first to
hear of it. A dependency that is down, or a database not migrated, is one line on
stderr and exit 2 before any thread starts (`dramatiq actors` then stops with code 2).
"""

from __future__ import annotations

from dramatiq import Broker, Middleware, Worker

from store.preflight import check_or_exit
from store.settings import Settings


class Preflight(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def before_worker_boot(self, broker: Broker, worker: Worker) -> None:
        # SystemExit is not an Exception: Dramatiq's hook runner lets it through.
        check_or_exit(self.settings)
