"""Batches, parents and tags in the store, on SQLite and PostgreSQL (migrated schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect
from sqlmodel import Session

from store import jobs
from store.access import bulk, idempotency, listing, parents
from store.access.submissions import Submission, submit_batch
from store.backends import Backends
from store.errors import KeyReused, UnknownParent
from store.migrate import alembic_config, upgrade
from store.view import job_json
from tests.databases import postgres_database


def _owner() -> str:
    return f"batcher-{uuid.uuid4().hex[:8]}"


def _batch(owner: str, count: int, **extra: object) -> list[Submission]:
    return [
        Submission(owner=owner, type="chat", params={"prompt": f"p{i}"}, **extra)  # type: ignore[arg-type]  # extra: tags, parent_id
        for i in range(count)
    ]


def test_a_batch_is_inserted_in_order_and_its_key_names_it(backends: Backends) -> None:
    owner = _owner()
    batch = _batch(owner, 3, tags=("project:42",))
    created, fresh = submit_batch(backends, owner, batch, "k1", None)
    again, replayed_fresh = submit_batch(backends, owner, batch, "k1", None)
    assert fresh and not replayed_fresh
    assert [job.id for job in again] == [job.id for job in created]
    assert [job.params["prompt"] for job in created] == ["p0", "p1", "p2"]
    assert job_json(created[0])["tags"] == ["project:42"]
    with pytest.raises(KeyReused):
        submit_batch(backends, owner, _batch(owner, 2), "k1", None)


def test_concurrent_batches_with_one_key_create_one_batch(backends: Backends) -> None:
    owner = _owner()
    batch = _batch(owner, 20)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: submit_batch(backends, owner, batch, "race", None), range(6))
        )
    assert sorted(created for _, created in answers) == [False] * 5 + [True]
    assert len({tuple(job.id for job in created) for created, _ in answers}) == 1
    assert len(listing.list_page(backends, owner=owner, limit=200)[0]) == 20


def test_a_bad_parent_creates_nothing(backends: Backends) -> None:
    owner, stranger = _owner(), _owner()
    foreign = jobs.create(backends, type="chat", params={"prompt": "x"}, owner=stranger)
    batch = _batch(owner, 2, tags=("t:1",))
    batch.append(Submission(owner=owner, type="chat", parent_id=foreign.id))
    with pytest.raises(UnknownParent) as raised:
        submit_batch(backends, owner, batch, None, None)
    assert raised.value.details == [{"field": "jobs[2].parent_id", "message": raised.value.message}]
    assert listing.list_page(backends, owner=owner)[0] == []


def test_children_roll_up_into_their_parent(backends: Backends) -> None:
    owner = _owner()
    parent = jobs.create(backends, type="chat", params={"prompt": "p"}, owner=owner)
    children, _ = submit_batch(backends, owner, _batch(owner, 3, parent_id=parent.id), None, None)
    jobs.cancel(backends, children[0].id)
    jobs.cancel(backends, children[1].id)
    rolled = parents.children_of(backends, [parent.id, children[2].id])
    assert rolled == {
        parent.id: {
            "total": 3,
            "progress": 66,
            "done": 2,
            "statuses": {"cancelled": 2, "pending": 1},
        }
    }
    page, _ = listing.list_page(backends, owner=owner, parent_id=parent.id)
    assert {job.id for job in page} == {child.id for child in children}


def test_tag_filters_match_whole_tags_only(backends: Backends) -> None:
    owner = _owner()
    wanted = ("50%_off", "project:42")
    submit_batch(backends, owner, _batch(owner, 2, tags=wanted), None, None)
    submit_batch(backends, owner, _batch(owner, 1, tags=("50xxoff", "project:4")), None, None)
    for tag in wanted:
        assert len(listing.list_page(backends, owner=owner, tag=tag)[0]) == 2
    assert listing.list_page(backends, owner=owner, tag="project")[0] == []


def test_bulk_delete_takes_only_the_owners_finished_jobs(backends: Backends) -> None:
    owner, other = _owner(), _owner()
    mine, _ = submit_batch(backends, owner, _batch(owner, 3, tags=("x:1",)), "bulk", None)
    theirs, _ = submit_batch(backends, other, _batch(other, 1, tags=("x:1",)), None, None)
    jobs.cancel(backends, mine[0].id)
    jobs.cancel(backends, mine[1].id)
    jobs.cancel(backends, theirs[0].id)
    assert bulk.delete_finished(backends, owner, tag="x:1") == 2
    assert [job.id for job in listing.list_page(backends, owner=owner)[0]] == [mine[2].id]
    assert len(listing.list_page(backends, owner=other)[0]) == 1
    with Session(backends.engine) as session:  # a replay now returns what is left
        left = idempotency.batch_of(session, owner, "bulk", _fingerprint(owner), 3)
    assert [job.id for job in left] == [mine[2].id]


def _fingerprint(owner: str) -> str:
    batch = _batch(owner, 3, tags=("x:1",))
    return idempotency.fingerprint({"jobs": [s.request() for s in batch]})


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.db"
        return
    admin = request.getfixturevalue("postgres_url")  # skips without TEST_DATABASE_URL
    with postgres_database(admin) as url:
        yield url


def test_migration_0007_adds_and_removes_tags_and_parents(fresh_url: str) -> None:
    upgrade(fresh_url)
    engine = create_engine(fresh_url)
    try:
        assert {"tags", "parent_id"} <= _columns(engine)
        command.downgrade(alembic_config(fresh_url), "0005")
        assert not {"tags", "parent_id"} & _columns(engine)
        upgrade(fresh_url)
        assert "ix_job_parent" in {index["name"] for index in inspect(engine).get_indexes("job")}
    finally:
        engine.dispose()


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("job")}
