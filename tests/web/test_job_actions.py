"""Cancel, retry, delete and idempotent submit, in-process: the answers that need no worker.

Jobs are made through the lifecycle (store/jobs/), as a worker would move them; a
retried job running again is tested on running processes (tests/e2e/test_job_routes.py).
"""

from __future__ import annotations

import uuid

import pytest
from redis import Redis
from starlette.websockets import WebSocketDisconnect

from store import jobs
from tests.inprocess import InProcess


def test_cancel_answers_409_for_a_finished_job_and_404_for_an_unknown_one(
    web_app: InProcess,
) -> None:
    job_id = web_app.ended().id
    conflict = web_app.client.post(f"/jobs/{job_id}/cancel")
    unknown = web_app.client.post("/jobs/0123456789abcdef/cancel")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    assert "failed" in conflict.json()["error"]["message"]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_only_failed_cancelled_or_partly_failed_jobs_can_be_retried(web_app: InProcess) -> None:
    api, b = web_app.client, web_app.backends
    done = jobs.claim(b, web_app.parked().id)
    jobs.complete(b, done.id, done.attempts, {"text": "done"}, {})
    cancelled = web_app.parked().id
    assert api.post(f"/jobs/{cancelled}/cancel").status_code == 202

    retried = api.post(f"/jobs/{cancelled}/retry")
    completed = api.post(f"/jobs/{done.id}/retry")
    again = api.post(f"/jobs/{cancelled}/retry")  # pending now
    unknown = api.post("/jobs/nope/retry")

    assert retried.status_code == 202, retried.text
    assert (retried.json()["status"], retried.json()["error"]) == ("pending", None)
    assert completed.status_code == 409
    assert completed.json()["error"] == {
        "code": "conflict",
        "message": f"job {done.id} is completed; it cannot be retried",
    }
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    assert unknown.status_code == 404


def test_a_completed_job_with_failed_items_is_retried_and_its_items_value_is_checked(
    web_app: InProcess,
) -> None:
    api, b = web_app.client, web_app.backends
    job = jobs.claim(b, web_app.parked().id)
    failed = [{"index": 1, "label": "batch 2/2", "error": {"code": "llm_error", "message": "x"}}]
    jobs.complete(b, job.id, job.attempts, {"count": 20, "failed_items": failed}, {})

    bad = api.post(f"/jobs/{job.id}/retry", params={"items": "all"})
    retried = api.post(f"/jobs/{job.id}/retry", params={"items": "failed"})

    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_query"
    assert retried.status_code == 202, retried.text
    again = retried.json()
    assert (again["status"], again["result"], again["progress"]) == ("pending", None, 0)


def test_a_finished_job_is_deleted_with_its_redis_keys(web_app: InProcess, redis_url: str) -> None:
    api, job_id = web_app.client, web_app.ended().id
    keys = web_app.backends.keys.job_keys(job_id)
    with Redis.from_url(redis_url) as redis:
        assert redis.exists(*keys) > 0
        response = api.delete(f"/jobs/{job_id}")
        assert (response.status_code, response.content) == (204, b"")
        assert api.get(f"/jobs/{job_id}").status_code == 404
        assert api.delete(f"/jobs/{job_id}").status_code == 404
        assert redis.exists(*keys) == 0
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.websocket_connect(f"/jobs/{job_id}/events") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4404


def test_an_unfinished_job_cannot_be_deleted(web_app: InProcess) -> None:
    job_id = web_app.parked().id
    response = web_app.client.delete(f"/jobs/{job_id}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert web_app.client.get(f"/jobs/{job_id}").json()["status"] == "pending"
    assert web_app.client.post(f"/jobs/{job_id}/cancel").status_code == 202


def test_an_idempotency_key_reused_for_another_request_is_refused(web_app: InProcess) -> None:
    api, headers = web_app.client, {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    first = api.post("/jobs", json={"type": "chat", "params": {"prompt": "a"}}, headers=headers)
    other = api.post("/jobs", json={"type": "chat", "params": {"prompt": "b"}}, headers=headers)
    bad = api.post(
        "/jobs", json={"type": "chat", "params": {"prompt": "a"}}, headers={"Idempotency-Key": ""}
    )
    assert first.status_code == 202
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "Idempotency-Key"


def test_openapi_documents_the_job_actions_and_new_fields(web_app: InProcess) -> None:
    from openapi_spec_validator import validate

    document = web_app.client.get("/openapi.json").json()
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
