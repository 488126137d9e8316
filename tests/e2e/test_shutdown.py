"""Graceful shutdown: SIGTERM lets running jobs finish within the grace period, then hands
the rest back; none is left `running`."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.fault_fixtures import OwnRedis
from tests.faults import FAST_RECOVERY, job_of, start_fault_stack, submit_job, wait_status


def test_sigterm_finishes_short_jobs_and_hands_back_long_ones(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    # A worker with a long grace period: its short job finishes before it exits.
    env = {**FAST_RECOVERY, "JOBCAST_SHUTDOWN_GRACE": "20"}
    stack = start_fault_stack(tmp_path, own_redis.url, env)
    try:
        short = submit_job(stack, "long_chat", {"rounds": 1})
        wait_status(stack, short, {"running"})
        stack.workers[0].cli.send_signal(signal.SIGTERM)
        stack.workers[0].cli.wait(timeout=30)
        assert (job_of(stack, short)["status"], job_of(stack, short)["attempts"]) == (
            "completed", 1,
        )  # fmt: skip

        # A worker with a 1 s grace period: its long job is handed back, not abandoned.
        worker = stack.start_worker(env={"JOBCAST_SHUTDOWN_GRACE": "1"})
        long = submit_job(stack, "long_chat", {"rounds": 4})
        wait_status(stack, long, {"running"})
        signalled = time.monotonic()
        worker.cli.send_signal(signal.SIGTERM)
        worker.cli.wait(timeout=30)
        exited_after = time.monotonic() - signalled
        handed_back = job_of(stack, long)

        stack.start_worker()
        done = wait_status(stack, long, {"completed", "failed"}, timeout=60)
    finally:
        stack.stop()
    assert exited_after < 10, exited_after
    assert (handed_back["status"], handed_back["attempts"]) == ("retrying", 1)
    assert handed_back["error"]["code"] == "worker_shutdown"
    assert (done["status"], done["attempts"]) == ("completed", 2)
