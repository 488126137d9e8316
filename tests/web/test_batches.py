"""POST /jobs/batch, GET /jobs?parent_id=&tag=, DELETE /jobs and the children roll-up,
in-process (no worker needed): an app of its own with API keys and a small active cap."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from store import jobs, tags
from store.enqueued import mark
from tests.inprocess import InProcess, settings_of

OWNERS = ("ann", "ben", "cap", "dee")
MAX_ACTIVE = 30


@pytest.fixture(scope="module")
def app(sqlite_url: str, redis_url: str, namespace: str) -> Iterator[InProcess]:
    from web.app import create_app

    keys = {
        owner: f"{owner}-{secrets.token_urlsafe(16)}-{secrets.token_hex(4)}" for owner in OWNERS
    }
    settings = settings_of(
        sqlite_url,
        redis_url,
        namespace,
        JOBCAST_API_KEYS=",".join(f"{owner}:{key}" for owner, key in keys.items()),
        JOBCAST_MAX_ACTIVE_JOBS=MAX_ACTIVE,
    )
    web = create_app(settings)
    with TestClient(web) as client:
        yield InProcess(web, client, keys)


def _chat(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"type": "chat", "params": {"prompt": prompt}, **extra}


def _tag() -> str:
    return f"run:{secrets.token_hex(4)}"


def _batch(app: InProcess, owner: str, items: list[dict[str, Any]], **headers: str) -> Any:
    return app.client.post(
        "/jobs/batch", json={"jobs": items}, headers={**app.headers(owner), **headers}
    )


def _listed(app: InProcess, owner: str, query: str) -> list[dict[str, Any]]:
    response = app.client.get(f"/jobs?limit=200&{query}", headers=app.headers(owner))
    assert response.status_code == 200, response.text
    jobs_: list[dict[str, Any]] = response.json()["jobs"]
    return jobs_


def test_a_batch_answers_202_with_its_jobs_in_order(app: InProcess) -> None:
    tag = _tag()
    items = [_chat(f"q{i}", tags=[tag, "project:42"]) for i in range(5)]
    response = _batch(app, "ann", items)
    assert response.status_code == 202, response.text
    created = response.json()["jobs"]
    assert [job["params"]["prompt"] for job in created] == [f"q{i}" for i in range(5)]
    assert all(job["tags"] == [tag, "project:42"] and job["parent_id"] is None for job in created)
    listed = _listed(app, "ann", f"tag={tag}")
    assert {job["id"] for job in listed} == {job["id"] for job in created}


def test_one_invalid_job_is_named_by_index_and_nothing_is_created(app: InProcess) -> None:
    tag = _tag()
    items = [_chat("ok", tags=[tag]) for _ in range(20)]
    items[17] = {"type": "chat", "params": {"prompt": 7}, "tags": [tag]}
    response = _batch(app, "ann", items)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_params"
    assert [detail["field"] for detail in error["details"]] == ["jobs[17].params.prompt"]
    items[17] = _chat("ok", tags=["has space"])
    assert _batch(app, "ann", items).json()["error"]["details"][0]["field"] == "jobs[17].tags"
    assert _listed(app, "ann", f"tag={tag}") == []


def test_a_parent_must_be_a_job_of_the_same_owner(app: InProcess) -> None:
    foreign = app.client.post("/jobs", json=_chat("b"), headers=app.headers("ben")).json()
    for response in (
        _batch(app, "ann", [_chat("x"), _chat("y", parent_id=foreign["id"])]),
        app.client.post("/jobs", json=_chat("y", parent_id="nope"), headers=app.headers("ann")),
    ):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unknown_parent"
    detail = _batch(app, "ann", [_chat("x"), _chat("y", parent_id=foreign["id"])]).json()
    assert detail["error"]["details"][0]["field"] == "jobs[1].parent_id"


def test_the_same_key_gives_the_same_batch(app: InProcess) -> None:
    key = {"Idempotency-Key": f"batch-{secrets.token_hex(4)}"}
    items = [_chat(f"k{i}") for i in range(3)]
    first, again = _batch(app, "ann", items, **key), _batch(app, "ann", items, **key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [job["id"] for job in again.json()["jobs"]] == [
        job["id"] for job in first.json()["jobs"]
    ]
    other = _batch(app, "ann", items[:2], **key)
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_a_batch_over_the_active_cap_is_429_and_creates_nothing(app: InProcess) -> None:
    too_many = _batch(app, "cap", [_chat("c")] * (MAX_ACTIVE + 1))
    assert too_many.status_code == 429
    assert too_many.json()["error"]["code"] == "too_many_active_jobs"
    for _ in range(MAX_ACTIVE - 5):  # pending jobs that no worker takes
        mark(app.backends, jobs.create(app.backends, type="chat", params={}, owner="cap").id)
    tag = _tag()
    over = _batch(app, "cap", [_chat("c", tags=[tag])] * 6)
    assert (over.status_code, over.headers["Retry-After"]) == (429, "5")
    assert _listed(app, "cap", f"tag={tag}") == []


def test_children_filter_and_roll_up_into_the_parent(app: InProcess) -> None:
    parent = _parked(app, "dee")
    children = [_parked(app, "dee", parent_id=parent) for _ in range(4)]
    for child in children[:2]:
        jobs.cancel(app.backends, child)
    listed = _listed(app, "dee", f"parent_id={parent}")
    assert {job["id"] for job in listed} == set(children)
    view = app.client.get(f"/jobs/{parent}", headers=app.headers("dee")).json()
    assert view["children"] == {
        "total": 4,
        "progress": 50,
        "done": 2,
        "statuses": {"cancelled": 2, "pending": 2},
    }
    assert all(job["children"] is None for job in listed)


def test_bulk_delete_takes_finished_jobs_only(app: InProcess) -> None:
    tag = _tag()
    kept = [_parked(app, "dee", tags=[tag]) for _ in range(2)]
    gone = [_parked(app, "dee", tags=[tag]) for _ in range(3)]
    for job_id in gone:
        jobs.cancel(app.backends, job_id)
    other = _parked(app, "ben", tags=[tag])
    jobs.cancel(app.backends, other)
    bad = app.client.delete("/jobs?status=running", headers=app.headers("dee"))
    assert bad.status_code == 422
    response = app.client.delete(f"/jobs?tag={tag}", headers=app.headers("dee"))
    assert response.json() == {"deleted": 3}
    assert {job["id"] for job in _listed(app, "dee", f"tag={tag}")} == set(kept)
    assert [job["id"] for job in _listed(app, "ben", f"tag={tag}")] == [other]


def _parked(app: InProcess, owner: str, **fields: Any) -> str:
    """A pending job that stays pending, with tags and/or a parent, made in the store."""
    encoded = tags.encode(fields.pop("tags", []))
    job = jobs.create(app.backends, type="chat", params={}, owner=owner, tags=encoded, **fields)
    mark(app.backends, job.id)
    return job.id


def test_a_batch_holds_1_to_1000_jobs(app: InProcess) -> None:
    for items in ([], [_chat("x")] * 1001):
        response = _batch(app, "ann", items)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "jobs"
    not_a_batch = app.client.post("/jobs/batch", json=[_chat("x")], headers=app.headers("ann"))
    assert not_a_batch.json()["error"]["code"] == "invalid_request"
