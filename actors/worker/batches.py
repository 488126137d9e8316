"""Group commit for the worker's threads: many threads' requests, one call for all of them.

Dramatiq gives each message a thread of its own, so each thread claims one job and
records one end. A `Batcher` gathers what the threads ask for and runs it as one
`flush(items)` call, one transaction for many jobs (store/jobs.py `claim_many`,
`complete_many`).

No timer: a request that finds no flush running is flushed at once, by the thread
that made it, so a single job waits for nothing (S2, pickup). Requests made while a
flush runs wait for it, then one of their threads flushes them all together. Under
load the batch is therefore as large as what arrived during one flush, up to `limit`.

The process has one, STEPS, for claims (`claim`: job id → the claimed job, or None when
the batch did not claim it) and completions (`complete`: an attempt's end → the job, or
the error `jobs.complete` would raise) together, so one commit serves both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from actors.worker.active import ACTIVE, worker_name
from actors.worker.runtime import runtime
from store import enqueued, jobs
from store.errors import JobcastError
from store.models import Job

Item = TypeVar("Item")
Result = TypeVar("Result")

# Per item, its result or the exception its request raises.
Flush = Callable[[list[Item]], Sequence[Result | BaseException]]


class Batcher(Generic[Item, Result]):
    def __init__(self, flush: Flush[Item, Result], limit: int = 100, flushes: int = 1) -> None:
        self._flush = flush
        self._limit = limit
        self._flushes = flushes  # how many batches may be in flight at once
        self._lock = threading.Condition()
        self._waiting: list[tuple[Item, Future[Result]]] = []
        self._flushing = 0

    def __call__(self, item: Item) -> Result:
        """Run `item` in a batch; blocks until its batch is done, raises what it raised."""
        future: Future[Result] = Future()
        with self._lock:
            self._waiting.append((item, future))
        while not future.done():
            with self._lock:
                while not future.done() and (self._flushing >= self._flushes or not self._waiting):
                    self._lock.wait()
                if future.done():
                    break
                self._flushing += 1  # this thread flushes the next batch
                batch = self._waiting[: self._limit]
                del self._waiting[: self._limit]
            try:
                self._run(batch)
            finally:
                with self._lock:
                    self._flushing -= 1
                    self._lock.notify_all()
        return future.result()

    def _run(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        try:
            results = self._flush([item for item, _ in batch])
            for (_, future), result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        except BaseException as error:  # the whole batch failed (its transaction)
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):  # an interrupt of this very thread
                raise


def claim(job_id: str) -> Job | None:
    """Claim the job in a batch; None when the batch did not claim it."""
    return STEPS(job_id)


def complete(end: jobs.Completion) -> Job:
    """Complete the attempt in a batch; raises what `jobs.complete` would."""
    job = STEPS(end)
    assert job is not None  # a completion's answer is its job, or an error raised
    return job


# Batches in flight at once: each waits mostly on round trips to the database and
# Redis, so a second one overlaps them (docs/PERFORMANCE.md).
FLUSHES = 2

Step = str | jobs.Completion  # a job id to claim, or an attempt's end


def _flush(steps: list[Step]) -> list[Job | JobcastError | None]:
    b = runtime().backends
    claims = [step for step in steps if isinstance(step, str)]
    ends = [step for step in steps if not isinstance(step, str)]
    enqueued.received_many(b, claims)
    claimed, done = jobs.group_commit(b, claims, ends, worker_name())
    for job in claimed:
        ACTIVE.hold(job.id, job.attempts)  # at once, so the lease never finds it unheld
    by_id = {job.id: job for job in claimed}
    answers = iter(done)
    return [by_id.pop(step, None) if isinstance(step, str) else next(answers) for step in steps]


# Claims and completions go together: one transaction, one commit for both.
STEPS: Batcher[Step, Job | None] = Batcher(_flush, flushes=FLUSHES)
