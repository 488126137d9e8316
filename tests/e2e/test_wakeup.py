"""Wake-ups: an idle worker that polls Redis only every 5 s still starts jobs at once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tests.client import connect, read_all
from tests.faults import FAST_RECOVERY, FaultStack, job_of, start_fault_stack, submit_job

POLL_S = 5.0
# Well under the poll interval, yet generous for a loaded machine: without a wake-up
# each of the delays below takes about POLL_S.
PROMPT_S = POLL_S / 2


async def _run(stack: FaultStack, job_type: str, params: dict[str, Any]) -> dict[Any, float]:
    """Seconds from the job's creation to each of its status events, by (status, attempt)."""
    job_id = submit_job(stack, job_type, params)
    async with connect(stack.events_url(job_id, after=0)) as ws:  # every event, from seq 1
        received = await read_all(ws)
    created = datetime.fromisoformat(job_of(stack, job_id)["created_at"])
    return {
        (event["status"], event["attempt"]): (
            datetime.fromisoformat(event["ts"]) - created
        ).total_seconds()
        for event in received.events
        if event["type"] == "status"
    }


async def test_jobs_and_retries_start_long_before_the_poll_interval(
    tmp_path: Path, redis_url: str
) -> None:
    slow_poll = {**FAST_RECOVERY, "JOBCAST_WORKER_POLL_MS": str(int(POLL_S * 1000))}
    stack = start_fault_stack(tmp_path, redis_url, slow_poll)
    try:
        # Attempt 1 fails; attempt 2 is a delayed message, due a fraction of a second later.
        first = await _run(stack, "flaky", {"failures": 1})
        # Sent just after the worker finished: its consumers have just begun a fresh wait.
        second = await _run(stack, "flaky", {})
    finally:
        stack.stop()

    assert ("completed", 2) in first, first
    assert first[("running", 1)] < PROMPT_S, first
    assert first[("running", 2)] - first[("retrying", 1)] < PROMPT_S, first
    assert second[("running", 1)] < PROMPT_S, second
