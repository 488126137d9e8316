"""What one attempt of a running job reports: progress, streamed output, and the usage
(cost) of its model calls so far, carried by the next progress event.

Events are published from the worker's event loop (an asyncio Redis client), so a
thousand streaming jobs need no thread per event. Progress never goes down within an
attempt and stays below 100 until the job completes; the row copies the live progress
at most once per `persist_every` seconds (on a thread: it is a database write), so the
database never sees one write per step or token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from store import jobs
from store.async_events import AsyncEventChannel
from store.backends import Backends
from store.models import utcnow
from store.times import iso

log = logging.getLogger(__name__)


class Reporter:
    def __init__(
        self,
        b: Backends,
        events: AsyncEventChannel,
        job_id: str,
        attempt: int,
        persist_every: float = 1.0,
    ) -> None:
        self.b = b
        self.events = events
        self.job_id = job_id
        self.attempt = attempt
        self.persist_every = persist_every
        self.progress_value = 0
        self.message: str | None = jobs.STARTED
        self.stage: str | None = None
        self.last_seq = 0
        # What the row holds: the claim reset it to no progress.
        self._persisted: tuple[int, str | None, str | None] = (0, jobs.STARTED, None)
        # The claim has just written the row: the first copy can wait `persist_every`.
        self._persisted_at = time.monotonic()
        self.refused = False
        self._usage: dict[str, Any] | None = None

    async def progress(
        self, pct: float, message: str | None = None, stage: str | None = None
    ) -> int:
        """Publish a progress event; returns the progress now shown (never lower than before)."""
        if not 0 <= pct <= 100:
            raise ValueError(f"progress must be within 0..100, got {pct}")
        self.progress_value = max(self.progress_value, min(int(pct), 99))
        self.message = message if message is not None else self.message
        self.stage = stage if stage is not None else self.stage
        payload: dict[str, Any] = {
            "progress": self.progress_value,
            "message": self.message,
            "stage": self.stage,
        }
        if self._usage is not None:  # new since the last event: calls ended meanwhile
            payload["usage"], self._usage = self._usage, None
        view = {**payload, "updated_at": iso(utcnow())}
        seq = await self.events.publish(
            self.job_id, "progress", payload, attempt=self.attempt, floor=self.last_seq, view=view
        )
        self._sent(seq)
        if time.monotonic() - self._persisted_at >= self.persist_every:
            await self.persist()
        return self.progress_value

    def usage(self, usage: dict[str, Any]) -> None:
        """The job's usage so far (cost included): the next `progress` event carries it."""
        self._usage = usage

    async def output(self, stage: str, delta: str) -> None:
        """Publish one `output` event: `delta` is appended to the stage's text."""
        if not delta:
            return
        payload = {"stage": stage, "delta": delta}
        seq = await self.events.publish(
            self.job_id, "output", payload, attempt=self.attempt, floor=self.last_seq
        )
        self._sent(seq)

    async def persist(self) -> None:
        """Copy the live progress to the row, unless the row already shows it."""
        self._persisted_at = time.monotonic()
        shown = (self.progress_value, self.message, self.stage)
        if not self.last_seq or shown == self._persisted:
            return
        await asyncio.to_thread(
            jobs.save_progress,
            self.b,
            self.job_id,
            self.attempt,
            self.progress_value,
            self.message,
            self.stage,
            self.last_seq,
        )
        self._persisted = shown

    def _sent(self, seq: int) -> None:
        if seq == 0:
            # The job ended (cancelled, timed out) or another attempt took over.
            if not self.refused:
                log.info("job %s attempt %s: events refused", self.job_id, self.attempt)
            self.refused = True
            return
        # Output flushes and progress reports may interleave on the loop.
        self.last_seq = max(self.last_seq, seq)
