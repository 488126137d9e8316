"""Group commit for the worker's threads: many threads' requests, one call for all of them.

Dramatiq gives each message a thread of its own, so each thread claims one job and
records one end. A `Batcher` gathers what the threads ask for and runs it as one
`flush(items)` call, one transaction for many jobs (store/jobs/ `claim_many`,
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


class _Request(Generic[Item, Result]):
    """One thread's item, woken when its answer is in or when it is to flush a batch."""

    __slots__ = ("future", "item", "lead", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.future: Future[Result] = Future()
        self.wake = threading.Event()
        self.lead = False
        self.future.add_done_callback(lambda _: self.wake.set())


class Batcher(Generic[Item, Result]):
    def __init__(self, flush: Flush[Item, Result], limit: int = 100, flushes: int = 1) -> None:
        self._flush = flush
        self._limit = limit
        self._flushes = flushes  # how many batches may be in flight at once
        self._lock = threading.Lock()
        self._waiting: list[_Request[Item, Result]] = []
        self._flushing = 0

    def __call__(self, item: Item) -> Result:
        """Run `item` in a batch; blocks until its batch is done, raises what it raised."""
        request: _Request[Item, Result] = _Request(item)
        with self._lock:
            self._waiting.append(request)
            request.lead = self._flushing < self._flushes
            self._flushing += request.lead
        # Only the thread chosen to flush next is woken, besides those whose answers
        # are in: with hundreds of threads waiting, waking them all for each batch
        # would cost more than the batch.
        while True:
            if not request.lead:
                request.wake.wait()
                if not request.lead:
                    break  # its answer is in
            request.wake.clear()
            with self._lock:
                batch = self._waiting[: self._limit]
                del self._waiting[: self._limit]
            try:
                if batch:  # (another flush may have taken every request meanwhile)
                    self._run(batch)
            finally:
                self._hand_on(request)
            if request.future.done():
                break
        return request.future.result()

    def _hand_on(self, request: _Request[Item, Result]) -> None:
        """The batch is done: the oldest waiting request flushes next, if there is one."""
        with self._lock:
            request.lead = False
            if self._waiting:
                following = self._waiting[0]
                following.lead = True
                following.wake.set()
            else:
                self._flushing -= 1

    def _run(self, batch: list[_Request[Item, Result]]) -> None:
        try:
            results = self._flush([request.item for request in batch])
            for request, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    request.future.set_exception(result)
                else:
                    request.future.set_result(result)
        except BaseException as error:  # the whole batch failed (its transaction)
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(error)
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
