"""Two owners of one app: neither can see, watch, change or delete the other's jobs.

Someone else's job is answered exactly like a job that does not exist (404 / 4404), so
ids cannot even be confirmed. In-process (tests/inprocess.py): no worker is needed.
"""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocketDisconnect

from tests.inprocess import InProcess, Response


def not_found_like_unknown(app: InProcess, method: str, path: str, job_id: str) -> None:
    """As alice: the same answer for bob's job as for an id that never existed."""
    unknown = "f" * 32
    alice = app.headers("alice")
    foreign = app.client.request(method, path.format(id=job_id), headers=alice)
    missing = app.client.request(method, path.format(id=unknown), headers=alice)
    assert foreign.status_code == missing.status_code == 404, foreign.text
    assert foreign.json() == _with_id(missing.json(), unknown, job_id)


def _with_id(body: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    error = {**body["error"], "message": body["error"]["message"].replace(old, new)}
    return {"error": error}


def status_of(app: InProcess, owner: str, job_id: str) -> str:
    response = app.client.get(f"/jobs/{job_id}", headers=app.headers(owner))
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def test_someone_elses_job_is_a_404_like_an_unknown_one(keyed_app: InProcess) -> None:
    bobs = keyed_app.submit("bob", "bob's secret plans")
    not_found_like_unknown(keyed_app, "GET", "/jobs/{id}", bobs)
    assert status_of(keyed_app, "bob", bobs)  # bob still sees it


def test_lists_hold_only_the_callers_jobs(keyed_app: InProcess) -> None:
    alices = {keyed_app.submit("alice", f"alice {n}") for n in range(2)}
    bobs = {keyed_app.submit("bob", f"bob {n}") for n in range(2)}
    for owner, mine, theirs in (("alice", alices, bobs), ("bob", bobs, alices)):
        api, headers = keyed_app.client, keyed_app.headers(owner)
        for query in ({"limit": 200}, {"type": "chat"}, {"status": "pending"}):
            page = api.get("/jobs", params=query, headers=headers).json()
            assert not {job["id"] for job in page["jobs"]} & theirs, query
        seen, cursor = set(), None  # page by page, one job at a time
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = api.get("/jobs", params=params, headers=headers).json()
            seen |= {job["id"] for job in page["jobs"]}
            if (cursor := page["next"]) is None:
                break
        assert mine <= seen and not seen & theirs


def watch(app: InProcess, job_id: str, owner: str) -> tuple[list[dict[str, Any]], int]:
    """Open the job's events as `owner` (key as a subprotocol, as a browser sends it):
    the first message, or none, and the close code (1000: we closed after the first)."""
    protocols = ["jobcast", f"jobcast.bearer.{app.keys[owner]}"]
    try:
        with app.client.websocket_connect(f"/jobs/{job_id}/events", subprotocols=protocols) as ws:
            return [ws.receive_json()], 1000
    except WebSocketDisconnect as closed:
        return [], closed.code


def test_someone_elses_job_closes_the_websocket_with_4404(keyed_app: InProcess) -> None:
    bobs = keyed_app.parked("bob").id
    assert watch(keyed_app, bobs, "alice") == ([], 4404)
    [first], _ = watch(keyed_app, bobs, "bob")
    assert first["type"] == "snapshot" and first["job"]["id"] == bobs


def test_someone_elses_job_cannot_be_cancelled(keyed_app: InProcess) -> None:
    bobs = keyed_app.parked("bob").id  # pending, and it stays so until cancelled
    not_found_like_unknown(keyed_app, "POST", "/jobs/{id}/cancel", bobs)
    assert status_of(keyed_app, "bob", bobs) == "pending"
    bob = keyed_app.headers("bob")
    assert keyed_app.client.post(f"/jobs/{bobs}/cancel", headers=bob).status_code == 202
    assert status_of(keyed_app, "bob", bobs) == "cancelled"


def test_someone_elses_job_cannot_be_retried(keyed_app: InProcess) -> None:
    bobs = keyed_app.ended("bob").id
    not_found_like_unknown(keyed_app, "POST", "/jobs/{id}/retry", bobs)
    assert status_of(keyed_app, "bob", bobs) == "failed"
    bob = keyed_app.headers("bob")
    assert keyed_app.client.post(f"/jobs/{bobs}/retry", headers=bob).status_code == 202


def test_someone_elses_job_cannot_be_deleted(keyed_app: InProcess) -> None:
    bobs = keyed_app.ended("bob").id
    not_found_like_unknown(keyed_app, "DELETE", "/jobs/{id}", bobs)
    assert status_of(keyed_app, "bob", bobs) == "failed"
    bob = keyed_app.headers("bob")
    assert keyed_app.client.delete(f"/jobs/{bobs}", headers=bob).status_code == 204
    assert keyed_app.client.get(f"/jobs/{bobs}", headers=bob).status_code == 404


def test_idempotency_keys_are_per_owner(keyed_app: InProcess) -> None:
    body = {"type": "chat", "params": {"prompt": "once"}}
    same_key = {"Idempotency-Key": "order-42"}

    def post(owner: str) -> Response:
        return keyed_app.client.post(
            "/jobs", json=body, headers={**same_key, **keyed_app.headers(owner)}
        )

    alices, bobs, alices_again = post("alice"), post("bob"), post("alice")
    assert [r.status_code for r in (alices, bobs, alices_again)] == [202, 202, 202]
    assert alices.json()["id"] == alices_again.json()["id"]
    assert bobs.json()["id"] != alices.json()["id"]
    assert status_of(keyed_app, "bob", bobs.json()["id"])
