"""`GET /results/{kind}?job_id=`: the caller's saved rows of a job, kept after the job
is deleted; another owner's rows read as none."""

from __future__ import annotations

import uuid

from actors.jobtypes.personas import persona_rows
from store import results
from store.models import ResultPersona
from tests.inprocess import InProcess

BIOS = {"facebook": "Bakes.", "instagram": "Bread.", "x": "Crumbs.", "tiktok": "Yum."}


def test_a_deleted_jobs_personas_are_read_by_their_owner_only(keyed_app: InProcess) -> None:
    app, alice = keyed_app, keyed_app.headers("alice")
    job_id = app.ended("alice").id
    people = [{"id": n, "name": f"P{n}", "gender": "male", "bios": BIOS} for n in (2, 1)]
    rows = persona_rows(job_id, {"personas": people})
    results.upsert(app.backends, ResultPersona, rows, owner="alice")
    assert app.client.delete(f"/jobs/{job_id}", headers=alice).status_code == 204

    response = app.client.get("/results/personas", params={"job_id": job_id}, headers=alice)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(p["persona_id"], p["name"], p["bios"]) for p in items] == [
        (1, "P1", BIOS),
        (2, "P2", BIOS),
    ]
    bob = app.headers("bob")
    foreign = app.client.get("/results/personas", params={"job_id": job_id}, headers=bob)
    assert foreign.json()["items"] == []
    unknown = app.client.get("/results/canvas", params={"job_id": uuid.uuid4().hex}, headers=alice)
    assert unknown.json()["items"] == []
    missing = app.client.get("/results/backlog", headers=alice)
    assert missing.status_code == 422
