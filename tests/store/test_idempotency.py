"""Idempotency keys at the store: one job per key and owner, even when requests race."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from store import idempotency, jobs
from store.backends import Backends
from store.models import IdempotencyKey, Job, utcnow


def creator(b: Backends, prompt: str, owner: str = "ann") -> Callable[[Session], Job]:
    def create(session: Session) -> Job:
        return jobs.create(b, type="chat", params={"prompt": prompt}, owner=owner, session=session)

    return create


def count_jobs(b: Backends, prompt: str) -> int:
    with Session(b.engine) as session:
        return sum(job.params.get("prompt") == prompt for job in session.exec(select(Job)))


def test_racing_requests_with_one_key_create_one_job(backends: Backends) -> None:
    prompt, key = uuid.uuid4().hex, uuid.uuid4().hex

    def submit(_: int) -> tuple[str, bool]:
        job, created = idempotency.create_once(
            backends, "ann", key, "fp", creator(backends, prompt)
        )
        return job.id, created

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(submit, range(20)))
    assert len({job_id for job_id, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert count_jobs(backends, prompt) == 1


def test_keys_belong_to_an_owner_and_a_request(backends: Backends) -> None:
    key = uuid.uuid4().hex
    mine, _ = idempotency.create_once(backends, "ann", key, "fp", creator(backends, "a"))
    theirs, created = idempotency.create_once(
        backends, "bob", key, "fp", creator(backends, "b", "bob")
    )
    assert created and theirs.id != mine.id
    with pytest.raises(idempotency.KeyReused):
        idempotency.create_once(backends, "ann", key, "other", creator(backends, "c"))


def test_a_key_older_than_a_day_names_a_new_job(backends: Backends) -> None:
    key = uuid.uuid4().hex
    first, _ = idempotency.create_once(backends, "ann", key, "fp", creator(backends, "a"))
    with Session(backends.engine) as session, session.begin():
        session.execute(
            update(IdempotencyKey)
            .where(col(IdempotencyKey.key) == key)
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    again, created = idempotency.create_once(backends, "ann", key, "fp", creator(backends, "a"))
    assert created and again.id != first.id
    assert idempotency.forget_expired(backends) == 0  # the old row was replaced, not kept
