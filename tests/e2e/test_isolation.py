"""Two owners on one running stack: neither can see, watch, change or delete the other's jobs.

Someone else's job is answered exactly like a job that does not exist (404 / 4404), so
ids cannot even be confirmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from store import jobs
from store.backends import Backends
from tests.client import Received, read_all, read_until
from tests.secured import Secured, parked_job


@pytest.fixture
def b(secured: Secured) -> Iterator[Backends]:
    backends = secured.backends()
    yield backends
    backends.redis.close()
    backends.engine.dispose()


def failed_job(b: Backends, owner: str) -> str:
    """A job of `owner` that has ended (failed), made through the lifecycle."""
    job = jobs.create(b, type="chat", params={"prompt": "doomed"}, owner=owner)
    jobs.fail(b, job.id, None, {"code": "llm_error", "message": "the model said no"})
    return job.id


def not_found_like_unknown(secured: Secured, method: str, path: str, job_id: str) -> None:
    """As alice: the same answer for bob's job as for an id that never existed."""
    unknown = "f" * 32
    with secured.client("alice") as alice:
        foreign = alice.request(method, path.format(id=job_id))
        missing = alice.request(method, path.format(id=unknown))
    assert foreign.status_code == missing.status_code == 404, foreign.text
    assert foreign.json() == _with_id(missing.json(), unknown, job_id)


def _with_id(body: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    error = {**body["error"], "message": body["error"]["message"].replace(old, new)}
    return {"error": error}


def status_of(secured: Secured, owner: str, job_id: str) -> str:
    with secured.client(owner) as api:
        response = api.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def test_someone_elses_job_is_a_404_like_an_unknown_one(secured: Secured) -> None:
    bobs = secured.submit("bob", "bob's secret plans")["id"]
    not_found_like_unknown(secured, "GET", "/jobs/{id}", bobs)
    assert status_of(secured, "bob", bobs)  # bob still sees it


def test_lists_hold_only_the_callers_jobs(secured: Secured) -> None:
    alices = {secured.submit("alice", f"alice {n}")["id"] for n in range(2)}
    bobs = {secured.submit("bob", f"bob {n}")["id"] for n in range(2)}
    for owner, mine, theirs in (("alice", alices, bobs), ("bob", bobs, alices)):
        with secured.client(owner) as api:
            for query in ({"limit": 200}, {"type": "chat"}, {"status": "pending"}):
                listed = {job["id"] for job in api.get("/jobs", params=query).json()["jobs"]}
                assert not listed & theirs, query
            seen, cursor = set(), None  # page by page, one job at a time
            while True:
                page = api.get(
                    "/jobs", params={"limit": 1, **({"cursor": cursor} if cursor else {})}
                )
                seen |= {job["id"] for job in page.json()["jobs"]}
                if (cursor := page.json()["next"]) is None:
                    break
        assert mine <= seen and not seen & theirs


async def test_someone_elses_job_closes_the_websocket_with_4404(secured: Secured) -> None:
    bobs = secured.submit("bob", "watch me")["id"]
    async with secured.connect(bobs, key=secured.keys["alice"]) as ws:
        foreign = await read_all(ws)
    assert (foreign.messages, foreign.close_code) == ([], 4404)
    async with secured.connect(bobs, key=secured.keys["bob"]) as ws:
        own = Received()
        first = await read_until(ws, own, lambda m: True)
    assert first["type"] == "snapshot" and first["job"]["id"] == bobs


def test_someone_elses_job_cannot_be_cancelled(secured: Secured, b: Backends) -> None:
    bobs = parked_job(b, "bob").id  # pending, and it stays so until cancelled
    not_found_like_unknown(secured, "POST", "/jobs/{id}/cancel", bobs)
    assert status_of(secured, "bob", bobs) == "pending"
    with secured.client("bob") as bob:
        assert bob.post(f"/jobs/{bobs}/cancel").status_code == 202
    assert status_of(secured, "bob", bobs) == "cancelled"


def test_someone_elses_job_cannot_be_retried(secured: Secured, b: Backends) -> None:
    bobs = failed_job(b, "bob")
    not_found_like_unknown(secured, "POST", "/jobs/{id}/retry", bobs)
    assert status_of(secured, "bob", bobs) == "failed"
    with secured.client("bob") as bob:
        assert bob.post(f"/jobs/{bobs}/retry").status_code == 202


def test_someone_elses_job_cannot_be_deleted(secured: Secured, b: Backends) -> None:
    bobs = failed_job(b, "bob")
    not_found_like_unknown(secured, "DELETE", "/jobs/{id}", bobs)
    assert status_of(secured, "bob", bobs) == "failed"
    with secured.client("bob") as bob:
        assert bob.delete(f"/jobs/{bobs}").status_code == 204
        assert bob.get(f"/jobs/{bobs}").status_code == 404


def test_idempotency_keys_are_per_owner(secured: Secured) -> None:
    body = {"type": "chat", "params": {"prompt": "once"}}
    same_key = {"Idempotency-Key": "order-42"}

    def post(owner: str) -> httpx.Response:
        with secured.client(owner) as api:
            return api.post("/jobs", json=body, headers=same_key)

    alices, bobs, alices_again = post("alice"), post("bob"), post("alice")
    assert [r.status_code for r in (alices, bobs, alices_again)] == [202, 202, 202]
    assert alices.json()["id"] == alices_again.json()["id"]
    assert bobs.json()["id"] != alices.json()["id"]
    assert status_of(secured, "bob", bobs.json()["id"])
