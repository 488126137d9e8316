"""Cancel and time limits: the pipeline stops, its model stream closes, the output so far stays."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.client import Received, connect, read_all, read_until
from tests.faults import FaultStack, job_of, start_fault_stack, submit_job, wait_until
from tests.openai_server import OpenAIServer, Stream

ROUNDS = 6
SLACK_TOKENS = 20


def usage_recorded(stack: FaultStack, job_id: str) -> dict[str, int]:
    """The worker writes the stopped attempt's usage once its pipeline has stopped."""
    job = wait_until(lambda: job_of(stack, job_id)["usage"] and job_of(stack, job_id), 10,
                     "the worker never recorded the stopped attempt")  # fmt: skip
    usage: dict[str, int] = job["usage"]
    return usage


async def test_cancelling_a_streaming_job_stops_it_within_2_s_and_keeps_its_output(
    resilient_stacks: FaultStack,
) -> None:
    resilient_stack = resilient_stacks  # on each broker
    job_id = submit_job(resilient_stack, "long_chat", {"rounds": ROUNDS})
    async with connect(resilient_stack.events_url(job_id)) as ws:
        received = Received()
        await read_until(ws, received, lambda m: m["type"] == "output")
        started = time.monotonic()
        with resilient_stack.api() as api:
            response = api.post(f"/jobs/{job_id}/cancel")
        await read_all(ws, received)
        elapsed = time.monotonic() - started

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "cancelled"
    assert elapsed < 2, elapsed
    last = received.events[-1]
    assert (last["type"], last["status"]) == ("status", "cancelled")
    assert last["error"] == {"code": "cancelled", "message": "cancelled on request"}
    assert received.close_code == 1000

    usage = usage_recorded(resilient_stack, job_id)
    job = job_of(resilient_stack, job_id)
    # Nothing was published after the cancelled event, and the text so far was kept.
    assert job["seq"] == last["seq"]
    assert job["output"] == received.text() != ""
    # The model stream stopped: the model generated what was shown, plus what half a
    # second at 40 tokens/s adds at most (a flush interval, the cancel reaching the worker).
    shown = len(job["output"].split(" "))
    assert usage["completion_tokens"] <= shown + SLACK_TOKENS, (usage, shown)
    assert usage["llm_calls"] < ROUNDS


async def test_a_job_cancelled_before_it_starts_never_runs(resilient_stacks: FaultStack) -> None:
    resilient_stack = resilient_stacks  # on each broker
    worker = resilient_stack.workers[0]
    before = resilient_stack.duplicates_seen()
    with resilient_stack.paused(worker):
        job_id = submit_job(resilient_stack, "long_chat", {"rounds": 1})
        with resilient_stack.api() as api:
            response = api.post(f"/jobs/{job_id}/cancel")
        assert response.status_code == 202
    # The worker receives the job's message and drops it.
    wait_until(lambda: resilient_stack.duplicates_seen() > before, 10, "message never received")
    job = job_of(resilient_stack, job_id)
    assert (job["status"], job["attempts"], job["started_at"], job["usage"]) == (
        "cancelled", 0, None, None,
    )  # fmt: skip
    async with connect(resilient_stack.events_url(job_id, after=0)) as ws:
        log = await read_all(ws)
    assert [(e["type"], e.get("status")) for e in log.events] == [("status", "cancelled")]


def test_a_job_waiting_for_its_next_attempt_can_be_cancelled(resilient_stack: FaultStack) -> None:
    job_id = submit_job(resilient_stack, "flaky", {"failures": 5, "retry_after": 30})
    with resilient_stack.api() as api:
        wait_until(lambda: api.get(f"/jobs/{job_id}").json()["status"] == "retrying", 10, "")
        response = api.post(f"/jobs/{job_id}/cancel")
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["retry_at"], job["attempts"]) == ("cancelled", None, 1)


async def test_a_job_slower_than_its_time_limit_fails_with_timeout(
    resilient_stack: FaultStack,
) -> None:
    job_id = submit_job(resilient_stack, "long_chat", {"rounds": ROUNDS}, time_limit=1)
    async with connect(resilient_stack.events_url(job_id, after=0)) as ws:
        received = await read_all(ws)
    last = received.events[-1]
    assert (last["status"], last["error"]["code"]) == ("failed", "timeout")
    assert last["error"]["message"] == "the job ran past its time limit of 1 s"
    job = job_of(resilient_stack, job_id)
    assert job["attempts"] == 1  # a time limit is not retried
    # The model stream was closed at the limit: only what was shown had been generated.
    shown = len((job["output"] or "").split(" "))
    assert job["usage"]["completion_tokens"] <= shown + SLACK_TOKENS
    assert job["usage"]["llm_calls"] < ROUNDS


@pytest.fixture(scope="module")
def model_server() -> Iterator[OpenAIServer]:
    running = OpenAIServer().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def openai_stack(
    model_server: OpenAIServer, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    """Workers on the openai provider, streaming from the loopback model server."""
    env = {"JOBCAST_LLM": "openai", "OPENAI_BASE_URL": model_server.url, "OPENAI_API_KEY": "k"}
    stack = start_fault_stack(tmp_path_factory.mktemp("cancel-openai"), redis_url, env)
    yield stack
    stack.stop()


async def test_cancelling_a_streaming_job_closes_its_connection_to_the_model_server(
    model_server: OpenAIServer, openai_stack: FaultStack
) -> None:
    words = " ".join(f"word{n}" for n in range(80))
    model_server.plan("cancel-me", Stream(words, delay=0.1))  # 8 s of tokens
    job_id = submit_job(openai_stack, "chat", {"prompt": "cancel-me: a long answer"})
    async with connect(openai_stack.events_url(job_id)) as ws:
        received = Received()
        await read_until(ws, received, lambda m: m["type"] == "output")
        cancelled_at = time.monotonic()
        with openai_stack.api() as api:
            assert api.post(f"/jobs/{job_id}/cancel").status_code == 202
        await read_all(ws, received)
    assert received.events[-1]["status"] == "cancelled"
    assert time.monotonic() - cancelled_at < 2

    seen = model_server.request("cancel-me")
    await asyncio.to_thread(model_server.wait_for, lambda: seen.client_closed_at is not None)
    assert seen.client_closed_at is not None and not seen.finished
    assert seen.client_closed_at - cancelled_at < 2  # the model request was dropped
    usage = usage_recorded(openai_stack, job_id)
    assert usage["completion_tokens"] < 80
    assert job_of(openai_stack, job_id)["output"] == received.text()
