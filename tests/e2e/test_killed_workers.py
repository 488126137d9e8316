"""Killed workers: a SIGKILL mid-job costs an attempt, never the job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.client import Received, connect, read_all, read_until
from tests.fault_fixtures import OwnRedis
from tests.faults import (
    FAST_RECOVERY,
    FaultStack,
    start_fault_stack,
    submit_job,
    wait_status,
    wait_until,
)


@pytest.mark.timeout(120)
async def test_a_job_whose_worker_is_killed_completes_on_another_within_30_s(
    tmp_path: Path, own_redis: OwnRedis, broker_env: dict[str, str]
) -> None:
    # Production settings for leases, the reconciler and the broker: they are the claim.
    # On RabbitMQ the killed worker's message comes back at once, to find its job running.
    stack = start_fault_stack(tmp_path, own_redis.url, broker_env, workers=2, threads=2)
    try:
        job_id = submit_job(stack, "long_chat", {"rounds": 2})
        async with connect(stack.events_url(job_id)) as ws:
            received = Received()
            await read_until(ws, received, lambda m: m["type"] == "output")
            stack.kill_worker(stack.worker_running(job_id))
            killed_at = time.monotonic()
            await read_all(ws, received)
            recovered_in = time.monotonic() - killed_at
    finally:
        stack.stop()

    assert recovered_in < 30, recovered_in
    # The worker may claim the job before the client connects: then the snapshot says so.
    snapshot = received.messages[0]["job"]
    assert (snapshot["status"], snapshot["attempts"]) in {("pending", 0), ("running", 1)}
    statuses = [(e["status"], e["attempt"]) for e in received.events if e["type"] == "status"]
    assert statuses[-2:] == [("running", 2), ("completed", 2)]
    assert ("retrying", 1) in statuses
    assert [s for s, _ in statuses].count("completed") == 1
    seqs = received.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gapless across the kill
    error = next(e["error"] for e in received.events if e.get("status") == "retrying")
    assert error["code"] == "worker_lost"
    assert "stopped responding" in error["message"]


@pytest.mark.timeout(120)
def test_a_job_that_kills_its_worker_every_time_fails_after_the_maximum(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    stack = start_fault_stack(tmp_path, own_redis.url, FAST_RECOVERY)
    try:
        with stack.supervised():
            job_id = submit_job(stack, "kill_worker", {})
            job = wait_status(stack, job_id, {"failed", "completed"}, timeout=90)
    finally:
        stack.stop()
    assert (job["status"], job["attempts"]) == ("failed", 3)
    assert job["error"]["code"] == "worker_lost"
    assert job["error"]["message"].startswith("gave up after 3 attempts; the last one failed: ")
    assert "running attempt 3 stopped responding" in job["error"]["message"]
    assert len(stack.workers) >= 4  # three killed, and the one that found it lost


@pytest.mark.timeout(120)
def test_flushall_with_20_jobs_pending_and_running_loses_none(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    stack = start_fault_stack(tmp_path, own_redis.url, FAST_RECOVERY, threads=8)
    try:
        job_ids = [submit_job(stack, "long_chat", {"rounds": 2}) for _ in range(20)]
        # Not "the first job is running": on a busy machine it may have finished before
        # the last submit, and its `running` is never seen.
        wait_until(
            lambda: {"pending", "running"} <= statuses(stack),
            30,
            "never pending and running jobs at once",
        )
        own_redis.flushall()
        finished = [wait_status(stack, j, {"completed", "failed"}, timeout=90) for j in job_ids]
    finally:
        stack.stop()
    assert [job["status"] for job in finished] == ["completed"] * 20
    assert all(job["result"]["text"] for job in finished)


def statuses(stack: FaultStack) -> set[str]:
    with stack.api() as api:
        jobs = api.get("/jobs", params={"limit": 50}).json()["jobs"]
    return {job["status"] for job in jobs}
