"""Retries: transient failures come back with backoff, visibly, up to the type's maximum."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.client import Received, connect, read_all
from tests.faults import FaultStack, job_of, submit_job


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def follow(stack: FaultStack, job_id: str) -> Received:
    async with connect(stack.events_url(job_id, after=0)) as ws:
        return await read_all(ws)


def statuses(received: Received) -> list[tuple[str, int]]:
    return [(e["status"], e["attempt"]) for e in received.events if e["type"] == "status"]


def progress_by_attempt(received: Received) -> dict[int, list[int]]:
    attempt, seen = 0, dict[int, list[int]]()
    for event in received.events:
        if event["type"] == "status" and event["status"] == "running":
            attempt = event["attempt"]
            seen[attempt] = []
        elif event["type"] == "progress":
            seen[attempt].append(event["progress"])
    return seen


async def test_transient_failures_are_retried_with_backoff_until_the_job_completes(
    resilient_stacks: FaultStack,
) -> None:
    # On each broker: the attempts after the first are delayed messages.
    resilient_stack = resilient_stacks
    job_id = submit_job(resilient_stack, "flaky", {"failures": 2})
    received = await follow(resilient_stack, job_id)

    assert statuses(received) == [
        ("running", 1), ("retrying", 1), ("running", 2), ("retrying", 2), ("running", 3),
        ("completed", 3),
    ]  # fmt: skip
    seqs = received.seqs
    assert seqs == list(range(1, len(seqs) + 1))
    retrying = [e for e in received.events if e.get("status") == "retrying"]
    for event in retrying:
        assert event["error"]["code"] == "llm_error"
        assert "503" in event["error"]["message"]
        assert parse_time(event["retry_at"]) > parse_time(event["ts"])
    # Each attempt's progress starts again from the bottom, in view of the client.
    assert progress_by_attempt(received) == {1: [10, 40], 2: [10, 40], 3: [10, 40]}
    job = job_of(resilient_stack, job_id)
    assert (job["status"], job["attempts"], job["max_attempts"]) == ("completed", 3, 3)
    assert (job["result"], job["error"], job["retry_at"]) == ({"attempt": 3}, None, None)


async def test_the_next_attempt_waits_for_the_servers_retry_after(
    resilient_stack: FaultStack,
) -> None:
    job_id = submit_job(resilient_stack, "flaky", {"failures": 1, "retry_after": 1.5})
    received = await follow(resilient_stack, job_id)
    by_status: dict[str, Any] = {}
    for event in received.events:
        if event["type"] == "status":
            by_status.setdefault(event["status"], []).append(event)
    retry_at = parse_time(by_status["retrying"][0]["retry_at"])
    failed_at = parse_time(by_status["retrying"][0]["ts"])
    second_start = parse_time(by_status["running"][1]["ts"])
    # The event is stamped a moment after retry_at was set: allow those milliseconds.
    assert (retry_at - failed_at).total_seconds() >= 1.45
    assert second_start >= retry_at
    assert by_status["completed"][0]["attempt"] == 2


async def test_a_job_that_keeps_failing_gives_up_after_the_maximum_attempts(
    resilient_stack: FaultStack,
) -> None:
    job_id = submit_job(resilient_stack, "flaky", {"failures": 99})
    received = await follow(resilient_stack, job_id)
    assert [s for s, _ in statuses(received)] == [
        "running", "retrying", "running", "retrying", "running", "failed",
    ]  # fmt: skip
    job = job_of(resilient_stack, job_id)
    assert (job["status"], job["attempts"]) == ("failed", 3)
    assert job["error"]["code"] == "llm_error"
    assert job["error"]["message"].startswith("gave up after 3 attempts")
    assert received.events[-1]["error"] == job["error"]


async def test_a_permanent_failure_fails_at_once(resilient_stack: FaultStack) -> None:
    job_id = submit_job(resilient_stack, "flaky", {"permanent": True})
    received = await follow(resilient_stack, job_id)
    assert statuses(received) == [("running", 1), ("failed", 1)]
    job = job_of(resilient_stack, job_id)
    assert job["error"] == {
        "code": "llm_error",
        "message": "the model server answered 400: bad request",
    }
