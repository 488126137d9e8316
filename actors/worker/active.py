"""The attempts this worker process is running, so that other threads can stop them.

The cancel watcher stops an attempt whose job was cancelled, the process lease
(actors/worker/lease.py) one that is no longer the job's current attempt, the shutdown grace
timer every attempt still running (and any that starts after it). Stopping cancels the
pipeline's asyncio task (closing its model request) and sets the event behind
`JobContext.check_cancelled()`.

An attempt is also *held* from its claim until its end is recorded: the lease tells
the attempts the database says this process runs, but it does not, from those it does.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

StopReason = Literal["cancelled", "ended", "shutdown"]


def worker_name() -> str:
    """This worker process, as the job row and the logs name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Running:
    job_id: str
    attempt: int
    task: asyncio.Task[Any]
    stopped: threading.Event
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    reason: StopReason | None = None

    def stop(self, reason: StopReason) -> None:
        """Safe from any thread; the first reason given is the one that counts."""
        if self.reason is None:
            self.reason = reason
        self.stopped.set()
        self.loop.call_soon_threadsafe(self.task.cancel)


class ActiveAttempts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Running] = {}
        self._held: dict[str, int] = {}
        # Set by `stop_all`: an attempt that starts later (its message was taken just as
        # the worker began to stop) is stopped as it starts, for the same reason.
        self._closing: StopReason | None = None

    def hold(self, job_id: str, attempt: int) -> None:
        """This process claimed the attempt (called right after the claim commits)."""
        with self._lock:
            self._held[job_id] = attempt

    def release(self, job_id: str, attempt: int) -> None:
        """The attempt's end is recorded, or could not be."""
        with self._lock:
            if self._held.get(job_id) == attempt:
                del self._held[job_id]

    def held(self) -> dict[str, int]:
        with self._lock:
            return dict(self._held)

    def running(self) -> dict[str, int]:
        with self._lock:
            return {job_id: r.attempt for job_id, r in self._running.items()}

    @contextmanager
    def track(
        self, job_id: str, attempt: int, task: asyncio.Task[Any], stopped: threading.Event
    ) -> Iterator[Running]:
        running = Running(job_id, attempt, task, stopped)
        with self._lock:
            self._running[job_id] = running
            closing = self._closing
        if closing is not None:
            running.stop(closing)
        try:
            yield running
        finally:
            with self._lock:
                if self._running.get(job_id) is running:
                    del self._running[job_id]

    def stop(self, job_id: str, reason: StopReason) -> bool:
        with self._lock:
            running = self._running.get(job_id)
        if running is None:
            return False
        running.stop(reason)
        return True

    def stop_all(self, reason: StopReason) -> int:
        """Stop every running attempt, and each one that starts from now on."""
        with self._lock:
            self._closing = reason
            everyone = list(self._running.values())
        for running in everyone:
            running.stop(reason)
        return len(everyone)

    def __len__(self) -> int:
        with self._lock:
            return len(self._running)


ACTIVE = ActiveAttempts()
