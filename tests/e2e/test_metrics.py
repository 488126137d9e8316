"""`GET /metrics` on running processes: the figures follow a job that a worker runs.

The format, and the figures that need no worker, are tested in-process
(tests/web/test_metrics.py).
"""

from __future__ import annotations

import time

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


WORKER_HISTOGRAMS = (
    "jobcast_queue_wait_seconds",
    "jobcast_attempt_duration_seconds",
    "jobcast_llm_time_to_first_token_seconds",
    "jobcast_llm_output_tokens_per_second",
)


def worker_scrape(stack: Stack) -> dict[str, float]:
    """The worker host's own /metrics (its fork may still be starting: wait for it)."""
    url = f"http://127.0.0.1:{stack.env['JOBCAST_WORKER_METRICS_PORT']}/metrics"
    deadline = time.monotonic() + 20
    while True:
        try:
            return parse(httpx.get(url, timeout=10))
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def counts(figures: dict[str, float], family: str) -> float:
    """Observations of `family` over all its label sets."""
    prefix = f"{family}_count"
    return sum(value for name, value in figures.items() if name.startswith(prefix))


def wait_for_counts(stack: Stack, before: dict[str, float]) -> dict[str, float]:
    """The worker records an attempt's histograms just after its last event: wait."""
    deadline = time.monotonic() + 20
    while True:
        after = worker_scrape(stack)
        grown = all(counts(after, f) > counts(before, f) for f in WORKER_HISTOGRAMS)
        if grown or time.monotonic() > deadline:
            return after
        time.sleep(0.1)


async def test_the_histograms_count_jobs_model_calls_and_deliveries(stack: Stack) -> None:
    worker_before, web_before = worker_scrape(stack), scrape(stack)
    with stack.worker_paused():  # followed from before they start: every event is live
        job_ids = [submit(stack, prompt) for prompt in ("Tell me about owls", "About tides")]
        followers = [await connect(stack.events_url(job_id)) for job_id in job_ids]
        for ws in followers:
            await read_until(ws, Received(), lambda m: m["type"] == "snapshot")
    for ws in followers:
        assert (await read_all(ws)).messages[-1]["status"] == "completed"
    worker_after, web_after = wait_for_counts(stack, worker_before), scrape(stack)

    for family in WORKER_HISTOGRAMS:
        assert counts(worker_after, family) >= counts(worker_before, family) + 2, family
        assert family not in str(web_after), "each histogram is served by one kind of process"
    lag = "jobcast_event_delivery_lag_seconds"
    assert counts(web_after, lag) > counts(web_before, lag)
    # Both jobs completed, and their attempts are told apart by type and outcome.
    finished = 'jobcast_attempt_duration_seconds_count{outcome="completed",type="chat"}'
    assert worker_after[finished] >= worker_before.get(finished, 0) + 2
    inf = 'jobcast_attempt_duration_seconds_bucket{le="+Inf",outcome="completed",type="chat"}'
    assert worker_after[inf] == worker_after[finished]
