"""Graceful shutdown: on SIGTERM a worker lets its running jobs finish for
JOBCAST_SHUTDOWN_GRACE seconds, then hands the rest back.

Handing back stops the attempt (its model request is closed), records the job as
`retrying` due at once (error code `worker_shutdown`) and sends its message, so another
worker, or this one once restarted, starts it again. Supervisors should allow the grace
plus 10 s before they kill (docs/shutdown.md); a worker killed anyway loses its jobs to
the reconciler a lease later, not forever.

One stop per process, however many signals ask for it. A signal to a whole process
group (systemd's default KillMode, Heroku, `kill -- -PGID`) reaches the dramatiq CLI
and its worker processes at once, and the CLI forwards it: a worker process hears the
stop twice within milliseconds. Dramatiq's worker process takes a second signal as
"exit now" and raises SystemExit in its main thread, skipping `Worker.stop()`: no
grace, no hand-back, and the AsyncIO event-loop thread, which only that stop ends,
keeps the process alive forever. So the first signal starts the stop, later ones are
ignored (the grace bounds the stop), and the event-loop thread is a daemon.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from dramatiq import Middleware
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.middleware import AsyncIO

from actors.worker.active import ACTIVE

log = logging.getLogger(__name__)

# What the dramatiq CLI's worker processes stop on (SIGINT they ignore).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
Handler = Callable[[int, FrameType | None], Any]


class GracefulShutdown(Middleware):
    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self._signalled = False

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        # The dramatiq CLI boots the worker in the main thread, its handlers installed.
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in STOP_SIGNALS:
            handler = signal.getsignal(signum)
            if callable(handler):
                signal.signal(signum, self._first_only(handler))

    def _first_only(self, handler: Handler) -> Handler:
        def on_stop_signal(signum: int, frame: FrameType | None) -> None:
            if self._signalled:
                name = signal.Signals(signum).name
                log.info("%s again: already stopping (grace %s s)", name, self.grace_s)
                return
            self._signalled = True
            handler(signum, frame)

        return on_stop_signal

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        # Counted from here, when Dramatiq stops its worker threads taking messages (a
        # second at most after the signal): a job handed back earlier could be taken
        # again by this very process.
        if len(ACTIVE):
            log.info("stopping: %d jobs have %s s to finish", len(ACTIVE), self.grace_s)
        timer = threading.Timer(self.grace_s, self._hand_back)
        timer.daemon = True
        timer.start()

    def _hand_back(self) -> None:
        count = ACTIVE.stop_all("shutdown")
        if count:
            log.warning("handing back %d jobs still running after %s s", count, self.grace_s)


class DaemonAsyncIO(AsyncIO):
    """Dramatiq's AsyncIO middleware, its event-loop thread a daemon.

    Dramatiq's is not, and only `after_worker_shutdown` stops it: a process leaving by
    any other way (an exception in the main thread) would wait for it forever. Jobs it
    still ran are then recovered by the reconciler, a lease later.
    """

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        thread = EventLoopThread(self.logger)
        thread.daemon = True
        thread.start(timeout=1.0)
        set_event_loop_thread(thread)
