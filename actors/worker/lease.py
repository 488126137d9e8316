"""The worker process's lease: one heartbeat keeps every attempt it runs alive.

Every quarter lease a process holding attempts renews its row of the `worker` table and
reads which `running` jobs name it (store/attempts.py): two statements, however many
attempts it runs (an idle process writes nothing). From that read:
- an attempt it runs that is no longer the job's current one (cancelled while Redis
  was away, or taken over after this process stalled) is stopped, as a cancel would be;
- an attempt the database says it runs, but it does not (its end could not be recorded,
  or its claim's reply was lost, or a process of the same name ran it before a
  restart), is handed to the lifecycle (`jobs.abandon`) once two beats in a row have
  seen it, which retries the job.

The beat runs on the event loop the attempts run on: a process that dies or whose loop
stalls stops beating, and the reconciler recovers its jobs a lease later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from actors.worker.active import ACTIVE
from actors.worker.fair import SLOTS
from store import attempts, jobs
from store.backends import Backends
from store.errors import INFRASTRUCTURE_ERRORS, IllegalTransition, JobNotFound, StaleAttempt
from store.models import Job
from store.retries import Backoff
from store.status import JobStatus

log = logging.getLogger(__name__)

BEATS_PER_LEASE = 4


class ProcessLease:
    def __init__(
        self,
        b: Backends,
        worker: str,
        lease_s: float,
        backoff: Backoff,
        send: Callable[[Backends, Job], None],
    ) -> None:
        self.b = b
        self.worker = worker
        self.interval = lease_s / BEATS_PER_LEASE
        self.backoff = backoff
        self.send = send
        self._task: asyncio.Task[None] | None = None
        self._unheld: set[tuple[str, int]] = set()  # seen by the last beat

    def keep(self) -> None:
        """Beat from now on (on the running loop), if not already doing so."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="jobcast-lease")

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except INFRASTRUCTURE_ERRORS as error:
                log.warning("worker heartbeat not written: %s", error)
            except Exception:
                log.exception("worker heartbeat failed")
            await asyncio.sleep(self.interval)

    async def beat(self) -> None:
        if not ACTIVE.held():
            # Nothing to vouch for: an idle process writes nothing (and whatever the
            # database still says it runs, the reconciler recovers a lease from now).
            self._unheld = set()
            return
        running = ACTIVE.running()
        mine = await asyncio.to_thread(attempts.beat, self.b, self.worker)
        await asyncio.to_thread(SLOTS.renew, self.b, self.interval * BEATS_PER_LEASE)
        held = ACTIVE.held()
        for job_id, attempt in running.items():
            if mine.get(job_id) != attempt:
                log.info("job %s: attempt %s is over; stopping it", job_id, attempt)
                ACTIVE.stop(job_id, "ended")
        unheld = {(job_id, n) for job_id, n in mine.items() if held.get(job_id) != n}
        for job_id, attempt in unheld & self._unheld:
            await asyncio.to_thread(self._abandon, job_id, attempt)
        self._unheld = unheld

    def _abandon(self, job_id: str, attempt: int) -> None:
        try:
            job = jobs.abandon(self.b, job_id, attempt, self.backoff)
        except (IllegalTransition, StaleAttempt, JobNotFound):
            return
        log.warning("job %s: attempt %s was not running here; now %s", job_id, attempt, job.status)
        if job.status == JobStatus.RETRYING:
            self.send(self.b, job)
