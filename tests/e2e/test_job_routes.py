"""Retry, delete and idempotent submit over REST, against the running processes."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from redis import Redis

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


def test_only_failed_or_cancelled_jobs_can_be_retried(resilient_stack: FaultStack) -> None:
    job_id = submit_job(resilient_stack, "flaky", {})
    wait_status(resilient_stack, job_id, {"completed"})
    with resilient_stack.api() as api:
        response = api.post(f"/jobs/{job_id}/retry")
        unknown = api.post("/jobs/nope/retry")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": f"job {job_id} is completed; it cannot be retried",
    }
    assert unknown.status_code == 404


async def test_delete_removes_a_finished_job_and_its_redis_keys(
    resilient_stack: FaultStack,
) -> None:
    job_id = submit_job(resilient_stack, "flaky", {})
    wait_status(resilient_stack, job_id, {"completed"})
    keys = resilient_stack.keys.job_keys(job_id)
    with Redis.from_url(resilient_stack.redis_url) as redis:
        assert redis.exists(*keys) > 0
        with resilient_stack.api() as api:
            response = api.delete(f"/jobs/{job_id}")
            assert response.status_code == 204
            assert response.content == b""
            assert api.get(f"/jobs/{job_id}").status_code == 404
            assert api.delete(f"/jobs/{job_id}").status_code == 404
        assert redis.exists(*keys) == 0
    async with connect(resilient_stack.events_url(job_id)) as ws:
        assert (await read_all(ws)).close_code == 4404


def test_an_unfinished_job_cannot_be_deleted(resilient_stack: FaultStack) -> None:
    with resilient_stack.paused(resilient_stack.workers[0]), resilient_stack.api() as api:
        job_id = submit_job(resilient_stack, "flaky", {})
        response = api.delete(f"/jobs/{job_id}")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
        assert api.get(f"/jobs/{job_id}").json()["status"] == "pending"


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


def test_an_idempotency_key_reused_for_another_request_is_refused(
    resilient_stack: FaultStack,
) -> None:
    headers = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    with resilient_stack.api() as api:
        first = api.post("/jobs", json={"type": "flaky", "params": {}}, headers=headers)
        other = api.post(
            "/jobs", json={"type": "flaky", "params": {"failures": 1}}, headers=headers
        )
        bad = api.post(
            "/jobs", json={"type": "flaky", "params": {}}, headers={"Idempotency-Key": ""}
        )
    assert first.status_code == 202
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_openapi_documents_the_job_actions_and_new_fields(resilient_stack: FaultStack) -> None:
    from openapi_spec_validator import validate

    with resilient_stack.api() as api:
        document = api.get("/openapi.json").json()
    validate(document)
    paths = document["paths"]
    assert set(paths["/jobs/{job_id}"]) == {"get", "delete"}
    assert "409" in paths["/jobs/{job_id}/cancel"]["post"]["responses"]
    assert "409" in paths["/jobs/{job_id}/retry"]["post"]["responses"]
    submit = paths["/jobs"]["post"]
    assert [p["name"] for p in submit["parameters"]] == ["Idempotency-Key"]
    assert "Idempotent-Replayed" in submit["responses"]["202"]["headers"]
    job = document["components"]["schemas"]["Job"]["properties"]
    assert {"retry_at", "max_attempts"} <= set(job)
