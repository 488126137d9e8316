"""The process lease: one beat renews every attempt, and settles those the database and
the process disagree about (real database and Redis; the attempts are plain tasks)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from actors.worker.active import ACTIVE
from actors.worker.lease import ProcessLease
from store import jobs
from store.backends import Backends
from store.models import Job
from store.retries import Backoff


async def test_a_beat_stops_attempts_that_are_over_and_gives_back_those_not_running_here(
    backends: Backends,
) -> None:
    b = backends
    worker = f"test-lease:{uuid.uuid4().hex[:8]}"
    sent: list[str] = []

    def send(_: Backends, job: Job) -> None:
        sent.append(job.id)

    lease = ProcessLease(b, worker, lease_s=10, backoff=Backoff(0.1, 0.1), send=send)
    cancelled, running, unrecorded = (
        jobs.create(b, type="chat", params={"prompt": "x"}).id for _ in range(3)
    )
    for job_id in (cancelled, running, unrecorded):
        jobs.claim(b, job_id, worker=worker)
    pipelines = {job_id: asyncio.create_task(asyncio.sleep(60)) for job_id in (cancelled, running)}
    for job_id in pipelines:
        ACTIVE.hold(job_id, 1)
    with (
        ACTIVE.track(cancelled, 1, pipelines[cancelled], threading.Event()),
        ACTIVE.track(running, 1, pipelines[running], threading.Event()),
    ):
        jobs.cancel(b, cancelled)  # as if the cancel announcement never arrived
        await lease.beat()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(pipelines[cancelled], timeout=5)
        # The attempt this process does not run is given back on the second sight only:
        # the first may fall between a claim and its registration.
        assert jobs.get(b, unrecorded).status == "running"
        await lease.beat()
        assert not pipelines[running].done()
        pipelines[running].cancel()
    for job_id in pipelines:
        ACTIVE.release(job_id, 1)
    job = jobs.get(b, unrecorded)
    assert (job.status, job.error and job.error["code"]) == ("retrying", "worker_lost")
    assert sent == [unrecorded]
    assert jobs.get(b, running).status == "running"
