"""`GET /debug`: worker processes with their running jobs, counts by status and the
latest failures, for admin owners only once keys are on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from store import jobs
from store.models import Job
from tests.inprocess import InProcess

WORKER = "debug-host:4242"


@pytest.fixture
def running(keyed_app: InProcess) -> Iterator[Job]:
    """A job running on a worker process that has just reported in."""
    b = keyed_app.backends
    job = jobs.claim(b, keyed_app.parked("bob").id, worker=WORKER)
    b.redis.zadd(b.keys.workers, {WORKER: time.time()})
    yield job
    b.redis.zrem(b.keys.workers, WORKER)
    jobs.fail(b, job.id, None, {"code": "internal", "message": "test over"})


def test_an_admin_sees_workers_running_jobs_counts_and_failures(
    keyed_app: InProcess, running: Job
) -> None:
    failed = keyed_app.ended("bob")
    response = keyed_app.client.get("/debug", headers=keyed_app.headers("alice"))
    assert response.status_code == 200, response.text
    body = response.json()
    [worker] = [w for w in body["workers"] if w["name"] == WORKER]
    assert worker["alive"] and worker["running"] == [running.id]
    assert worker["seconds_since_heartbeat"] < 5
    [shown] = [j for j in body["jobs"]["running"] if j["id"] == running.id]
    assert (shown["worker"], shown["type"], shown["owner"], shown["attempt"]) == (
        WORKER, "chat", "bob", 1,
    )  # fmt: skip
    assert body["jobs"]["counts"]["running"] >= 1 and body["jobs"]["counts"]["failed"] >= 1
    latest = body["recent_failures"][0]
    assert (latest["id"], latest["code"], latest["owner"]) == (failed.id, "llm_error", "bob")


def test_other_owners_get_not_found_and_no_key_is_unauthorized(keyed_app: InProcess) -> None:
    refused = keyed_app.client.get("/debug", headers=keyed_app.headers("bob"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    assert keyed_app.client.get("/debug").status_code == 401


def test_without_keys_the_debug_page_is_open_as_the_api_is(web_app: InProcess) -> None:
    body = web_app.client.get("/debug").json()
    assert set(body) == {"workers", "jobs", "recent_failures"}
