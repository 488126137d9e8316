"""`GET /metrics`: Prometheus text that a scraper can parse, with figures that follow jobs."""

from __future__ import annotations

import re

import httpx

from tests.client import Received, connect, read_all, read_until, submit
from tests.stack import Stack

SAMPLE = re.compile(
    r'^(?P<name>[a-z_]+)(\{(?P<labels>[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*)\})? (?P<value>\S+)$'
)


def scrape(stack: Stack) -> dict[str, float]:
    response = httpx.get(f"{stack.base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    declared: set[str] = set()
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
        elif not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not a Prometheus sample: {line!r}"
            assert match["name"] in declared, f"{match['name']} has no # TYPE line before it"
            samples[line.rsplit(" ", 1)[0]] = float(match["value"])
    return samples


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
