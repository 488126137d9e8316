"""`GET /metrics` on running processes: the figures follow a job that a worker runs.

The format, and the figures that need no worker, are tested in-process
(tests/web/test_metrics.py).
"""

from __future__ import annotations

import httpx

from tests.client import Received, connect, read_all, read_until, submit
from tests.prometheus import parse
from tests.stack import Stack


def scrape(stack: Stack) -> dict[str, float]:
    return parse(httpx.get(f"{stack.base_url}/metrics", timeout=10))


async def test_the_figures_follow_a_job_through_its_life(stack: Stack) -> None:
    before = scrape(stack)
    assert (before["jobcast_database_up"], before["jobcast_redis_up"]) == (1, 1)
    assert before["jobcast_workers"] >= 1
    with stack.worker_paused():
        job_id = submit(stack)
        ws = await connect(stack.events_url(job_id))
        received = Received()
        await read_until(ws, received, lambda m: m["type"] == "snapshot")
        waiting = scrape(stack)
    await read_all(ws, received)
    after = scrape(stack)

    assert waiting['jobcast_jobs{status="pending"}'] >= 1
    assert waiting['jobcast_queue_messages{queue="jobs"}'] >= 1
    assert waiting["jobcast_websocket_connections"] >= 1
    assert received.messages[-1]["status"] == "completed"
    for status in ("running", "completed"):
        name = f'jobcast_status_changes_total{{status="{status}"}}'
        assert after[name] >= before.get(name, 0) + 1
