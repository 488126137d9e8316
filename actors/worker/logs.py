"""Worker processes log in jobcast's format (store/logs.py), set up once they boot.

The dramatiq CLI configures logging itself in each worker process (`basicConfig` on the
pipe its parent reads) before it imports the broker, and emits `process_boot` after:
from then on every line of the process, dramatiq's own included, has our format and
level. The CLI's parent process keeps dramatiq's format for its few start/stop lines.
Only worker processes boot, so importing `actors` (as the web process does to enqueue)
changes nothing.
"""

from __future__ import annotations

from typing import Any

from dramatiq import Middleware

from store.logs import configure
from store.settings import Settings


class WorkerLogs(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def after_process_boot(self, broker: Any) -> None:
        configure(self.settings)
