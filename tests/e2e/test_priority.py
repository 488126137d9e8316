"""Priority: of the jobs waiting for a busy worker, high ones start first, then normal, then low."""

from __future__ import annotations

from pathlib import Path

from tests.fault_fixtures import OwnRedis
from tests.faults import FAST_RECOVERY, job_of, start_fault_stack, submit_job, wait_status


def test_queued_jobs_start_in_priority_order(
    tmp_path: Path, own_redis: OwnRedis, broker_env: dict[str, str]
) -> None:
    stack = start_fault_stack(tmp_path, own_redis.url, {**FAST_RECOVERY, **broker_env}, threads=1)
    try:
        blocker = submit_job(stack, "long_chat", {"rounds": 2})
        wait_status(stack, blocker, {"running"})
        # Submitted while the only worker thread is busy, lowest priority first.
        waiting = {
            priority: submit_job(stack, "flaky", {}, priority=priority) for priority in (-5, 0, 7)
        }
        finished = {p: wait_status(stack, j, {"completed"}) for p, j in waiting.items()}
        blocker_done = job_of(stack, blocker)
    finally:
        stack.stop()
    order = sorted(finished, key=lambda p: finished[p]["started_at"])
    assert order == [7, 0, -5]
    assert finished[7]["started_at"] >= blocker_done["finished_at"]
