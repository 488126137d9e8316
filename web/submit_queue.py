"""Concurrent `POST /jobs` requests of one process gathered into group commits.

A submit that finds no group in flight starts one at once, alone: no added latency.
Submits that arrive while groups are in flight wait for the next one, which takes all of
them (up to MAX_GROUP): under load, many requests share one worker-thread trip, one
transaction with one INSERT (store/access/group_commit.py) and one enqueue round trip.
So a request waits at most for the group ahead of it, a few milliseconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.concurrency import run_in_threadpool

from store.access.group_commit import Outcome, submit_group
from store.access.quota import SubmissionLimits
from store.access.submissions import Submission
from store.backends import Backends
from store.errors import ApiError
from store.view import job_json
from web.jobs_api import enqueue_all, live_job

# Bounds a group's transaction and its worker-thread trip.
MAX_GROUP = 64
# Groups in a worker thread at once: one commits while the next gathers and starts.
MAX_IN_FLIGHT = 2

# What a request is answered with: the job's JSON, its id, and whether it is new.
Accepted = tuple[dict[str, Any], str, bool]


class SubmitQueue:
    def __init__(self, b: Backends, limits: SubmissionLimits | None) -> None:
        self.b, self.limits = b, limits
        self._waiting: list[tuple[Submission, asyncio.Future[Accepted]]] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, submission: Submission) -> Accepted:
        """Accept one submission (raises its ApiError, or a dependency's error)."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._waiting.append((submission, future))
        if self._in_flight < MAX_IN_FLIGHT:
            self._start()
        return await future

    def _start(self) -> None:
        group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        self._in_flight += 1
        task = asyncio.create_task(self._run(group))
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    async def _run(self, group: list[tuple[Submission, asyncio.Future[Accepted]]]) -> None:
        try:
            answers = await run_in_threadpool(self._accept, [s for s, _ in group])
        except Exception as error:  # a dependency: every request of the group is told
            answers = [error] * len(group)
        finally:
            self._in_flight -= 1
            if self._waiting:
                self._start()
        for (_, future), answer in zip(group, answers, strict=True):
            if future.done():  # its client went away
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)

    def _accept(self, group: list[Submission]) -> list[Accepted | Exception]:
        """In a worker thread: commit the group, then send the new jobs' messages."""
        outcomes = submit_group(self.b, group, self.limits)
        enqueue_all(self.b, [o[0] for o in outcomes if not isinstance(o, ApiError) and o[1]])
        return [self._answer(outcome) for outcome in outcomes]

    def _answer(self, outcome: Outcome) -> Accepted | Exception:
        if isinstance(outcome, ApiError):
            return outcome
        job, created = outcome
        return job_json(job) if created else live_job(self.b, job), job.id, created
