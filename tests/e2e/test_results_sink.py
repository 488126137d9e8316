"""Results that outlive the job: persona, backlog and canvas jobs completed by the real
worker leave typed rows in the database, and deleting the job leaves them there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select
from sqlmodel import Session, SQLModel, col

from store.models import ResultBacklogItem, ResultCanvasObject, ResultPersona
from tests.e2e.follow import run_job
from tests.stack import Stack


@pytest.fixture(scope="module")
def database(sqlite_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlite_url)
    yield engine
    engine.dispose()


def rows(engine: Engine, model: type[SQLModel], key: Any, job_id: str) -> list[Any]:
    with Session(engine) as session:
        return list(session.execute(select(model).where(col(key) == job_id)).scalars())


def delete_job(stack: Stack, job_id: str) -> None:
    assert httpx.delete(f"{stack.base_url}/jobs/{job_id}", timeout=10).status_code == 204
    assert httpx.get(f"{stack.base_url}/jobs/{job_id}", timeout=10).status_code == 404


async def test_personas_are_saved_and_kept_after_the_job_is_deleted(
    stack: Stack, database: Engine
) -> None:
    done = await run_job(stack, "generate_personas", {"count": 3})
    assert done.job["status"] == "completed"
    job_id = done.job["id"]
    delete_job(stack, job_id)
    saved = rows(database, ResultPersona, ResultPersona.job_id, job_id)
    expected = [(p["id"], p["name"]) for p in done.job["result"]["personas"]]
    assert sorted((p.persona_id, p.name, p.owner) for p in saved) == [
        (n, name, "anonymous") for n, name in expected
    ]
    assert len(expected) == 3


async def test_a_backlog_is_saved_as_epic_stories_and_tasks(stack: Stack, database: Engine) -> None:
    params = {"description": "A tide table app for harbours", "stories": 2, "tasks_per_story": 2}
    done = await run_job(stack, "generate_backlog", params)
    assert done.job["status"] == "completed"
    saved = rows(database, ResultBacklogItem, ResultBacklogItem.job_id, done.job["id"])
    kinds = sorted((item.kind, item.item_id, item.parent_id) for item in saved)
    assert kinds == [
        ("epic", "epic", None),
        ("story", "story-1", "epic"),
        ("story", "story-2", "epic"),
        ("task", "story-1/task-1", "story-1"),
        ("task", "story-1/task-2", "story-1"),
        ("task", "story-2/task-1", "story-2"),
        ("task", "story-2/task-2", "story-2"),
    ]
    epic = next(item for item in saved if item.kind == "epic")
    assert epic.title == done.job["result"]["epic"]["title"]


async def test_canvas_objects_are_saved_under_the_canvas_id(stack: Stack, database: Engine) -> None:
    done = await run_job(stack, "create_canvas", {"request": "a lighthouse", "width": 400})
    assert done.job["status"] == "completed"
    canvas_id = done.job["id"]
    delete_job(stack, canvas_id)
    saved = rows(database, ResultCanvasObject, ResultCanvasObject.canvas_id, canvas_id)
    objects = done.job["result"]["objects"]
    assert sorted((o.z, o.object_id, o.kind, o.x, o.w) for o in saved) == [
        (o["z"], o["id"], o["kind"], o["x"], o["w"]) for o in objects
    ]
