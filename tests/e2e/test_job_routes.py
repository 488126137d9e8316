"""Retry and idempotent submit over REST, against the running processes: a retried job runs
again, concurrent submits race. The answers that need no worker are tested in-process
(tests/web/test_job_actions.py).
"""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.client import connect, read_all
from tests.faults import FaultStack, job_of, submit_job, wait_status


async def test_a_failed_job_retried_through_the_api_runs_again_with_more_attempts(
    resilient_stack: FaultStack,
) -> None:
    job_id = submit_job(resilient_stack, "flaky", {"failures": 3})
    failed = wait_status(resilient_stack, job_id, {"failed"})
    assert (failed["attempts"], failed["max_attempts"]) == (3, 3)
    with resilient_stack.api() as api:
        response = api.post(f"/jobs/{job_id}/retry")
    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["error"]) == ("pending", None)

    async with connect(resilient_stack.events_url(job_id, after=failed["seq"])) as ws:
        rest = await read_all(ws)
    statuses = [(e["status"], e["attempt"]) for e in rest.events if e["type"] == "status"]
    assert statuses == [("pending", 3), ("running", 4), ("completed", 4)]
    assert rest.seqs == list(range(failed["seq"] + 1, failed["seq"] + 1 + len(rest.seqs)))
    job = job_of(resilient_stack, job_id)
    assert (job["result"], job["max_attempts"]) == ({"attempt": 4}, 6)


def test_a_cancelled_job_can_be_retried_and_completes(resilient_stack: FaultStack) -> None:
    worker = resilient_stack.workers[0]
    with resilient_stack.paused(worker), resilient_stack.api() as api:
        job_id = submit_job(resilient_stack, "long_chat", {"rounds": 1})
        assert api.post(f"/jobs/{job_id}/cancel").status_code == 202
        assert api.post(f"/jobs/{job_id}/retry").status_code == 202
    job = wait_status(resilient_stack, job_id, {"completed"})
    assert job["attempts"] == 1


async def test_20_concurrent_submits_with_one_idempotency_key_create_one_job(
    resilient_stack: FaultStack,
) -> None:
    prompt = f"idempotent {uuid.uuid4().hex}"
    body = {"type": "long_chat", "params": {"prompt": prompt, "rounds": 1}}
    headers = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    async with httpx.AsyncClient(base_url=resilient_stack.base_url, timeout=20) as client:
        responses = await asyncio.gather(
            *(client.post("/jobs", json=body, headers=headers) for _ in range(20))
        )
        listing = (await client.get("/jobs", params={"type": "long_chat", "limit": 200})).json()
    assert [r.status_code for r in responses] == [202] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    replayed = [r.headers.get("idempotent-replayed") for r in responses]
    assert replayed.count(None) == 1 and replayed.count("true") == 19
    assert [j["params"]["prompt"] for j in listing["jobs"]].count(prompt) == 1
