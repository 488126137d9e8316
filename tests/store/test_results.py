"""Saved results: written once per key whatever the attempts, and kept when their job
is deleted by the API or by retention (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from actors.jobtypes.backlog import backlog_rows
from actors.jobtypes.personas import persona_rows
from store import jobs, results
from store.backends import Backends
from store.chores import retention
from store.models import ResultBacklogItem, ResultPersona, utcnow

BIOS = {"facebook": "Bakes.", "instagram": "Bread.", "x": "Crumbs.", "tiktok": "Yum."}


def personas(*ids: int) -> dict[str, object]:
    people = [{"id": n, "batch": 1, "name": f"P{n}", "gender": "male", "bios": BIOS} for n in ids]
    return {"personas": people}


def persona_ids(b: Backends, job_id: str) -> list[int]:
    statement = select(col(ResultPersona.persona_id)).where(col(ResultPersona.job_id) == job_id)
    with Session(b.reader) as session:
        return sorted(session.execute(statement).scalars())


def test_a_retry_or_a_duplicate_writes_each_row_once(backends: Backends) -> None:
    job_id = jobs.create(backends, type="generate_personas", params={"count": 3}).id
    assert results.upsert(backends, ResultPersona, persona_rows(job_id, personas(1, 3))) == 2
    assert results.upsert(backends, ResultPersona, persona_rows(job_id, personas(1, 3))) == 0
    # A retry of the failed batch completes the job with every persona: one row is new.
    assert results.upsert(backends, ResultPersona, persona_rows(job_id, personas(1, 2, 3))) == 1
    assert persona_ids(backends, job_id) == [1, 2, 3]


def test_saved_results_outlive_their_job(isolated_backends: Backends) -> None:
    b = isolated_backends
    deleted, purged = (jobs.create(b, type="chat", params={"prompt": "x"}).id for _ in "ab")
    for job_id in (deleted, purged):
        jobs.claim(b, job_id)
        jobs.complete(b, job_id, 1, {"text": "done"}, {"provider": "simulated"})
        results.upsert(b, ResultPersona, persona_rows(job_id, personas(1, 2)))
    jobs.delete(b, deleted)
    assert retention.purge(b, ttl_s=3600, now=utcnow() + timedelta(hours=2)) >= 1
    assert persona_ids(b, deleted) == persona_ids(b, purged) == [1, 2]


def test_a_backlog_is_saved_as_a_tree_of_items_with_stable_ids(backends: Backends) -> None:
    job_id = jobs.create(backends, type="generate_backlog", params={"description": "x"}).id
    task = {"title": "T", "description": "d", "estimate_hours": 1.0}
    story = {"title": "S", "description": "d", "acceptance_criteria": ["a"], "points": 3}
    epic = {"title": "E", "goal": "g", "summary": "s"}
    result = {
        "epic": {**epic, "stories": [{**story, "tasks": [task, task]}, {**story, "tasks": []}]}
    }
    assert results.upsert(backends, ResultBacklogItem, backlog_rows(job_id, result)) == 5
    statement = select(col(ResultBacklogItem.item_id), col(ResultBacklogItem.parent_id)).where(
        col(ResultBacklogItem.job_id) == job_id
    )
    with Session(backends.reader) as session:
        tree = {(item, parent) for item, parent in session.execute(statement)}
    assert tree == {
        ("epic", None),
        ("story-1", "epic"),
        ("story-2", "epic"),
        ("story-1/task-1", "story-1"),
        ("story-1/task-2", "story-1"),
    }


def test_rows_carry_the_owner_of_their_job(backends: Backends) -> None:
    job_id = jobs.create(backends, type="generate_personas", params={"count": 1}).id
    results.upsert(backends, ResultPersona, persona_rows(job_id, personas(1)), owner="alice")
    statement = select(col(ResultPersona.owner)).where(col(ResultPersona.job_id) == job_id)
    with Session(backends.reader) as session:
        assert list(session.execute(statement).scalars()) == ["alice"]
