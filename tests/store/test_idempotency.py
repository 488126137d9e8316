"""Submitting at the store: one job per Idempotency-Key and owner, even when requests race."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from store.access import idempotency
from store.access.quota import Quotas, SubmissionLimits
from store.access.submissions import Submission, submit
from store.backends import Backends
from store.errors import KeyReused, TooManyActiveJobs
from store.models import IdempotencyKey, Job, utcnow


def chat(prompt: str, key: str, owner: str = "ann") -> Submission:
    return Submission(owner=owner, type="chat", params={"prompt": prompt}, idempotency_key=key)


def count_jobs(b: Backends, prompt: str) -> int:
    with Session(b.engine) as session:
        return sum(job.params.get("prompt") == prompt for job in session.exec(select(Job)))


def test_racing_requests_with_one_key_create_one_job(backends: Backends) -> None:
    prompt, key = uuid.uuid4().hex, uuid.uuid4().hex

    def one(_: int) -> tuple[str, bool]:
        job, created = submit(backends, chat(prompt, key), limits=None)
        return job.id, created

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert len({job_id for job_id, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert count_jobs(backends, prompt) == 1


def test_keys_belong_to_an_owner_and_a_request(backends: Backends) -> None:
    key = uuid.uuid4().hex
    mine, _ = submit(backends, chat("a", key), limits=None)
    theirs, created = submit(backends, chat("a", key, owner="bob"), limits=None)
    assert created and theirs.id != mine.id
    again, created = submit(backends, chat("a", key), limits=None)
    assert (again.id, created) == (mine.id, False)
    with pytest.raises(KeyReused):
        submit(backends, chat("c", key), limits=None)


def test_a_key_older_than_a_day_names_a_new_job(backends: Backends) -> None:
    key = uuid.uuid4().hex
    first, _ = submit(backends, chat("a", key), limits=None)
    with Session(backends.engine) as session, session.begin():
        session.execute(
            update(IdempotencyKey)
            .where(col(IdempotencyKey.key) == key)
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    again, created = submit(backends, chat("a", key), limits=None)
    assert created and again.id != first.id
    assert idempotency.forget_expired(backends) == 0  # the old row was replaced, not kept


def test_a_new_job_over_the_cap_is_refused_but_a_replay_of_its_key_is_free(
    backends: Backends,
) -> None:
    owner, key = f"capped-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    limits = SubmissionLimits(Quotas(backends), per_minute=600, burst=100, max_active=1)
    first, created = submit(backends, chat("a", key, owner), limits)
    assert created
    with pytest.raises(TooManyActiveJobs) as refused:
        submit(backends, chat("b", uuid.uuid4().hex, owner), limits)
    assert (refused.value.http_status, refused.value.headers()) == (429, {"Retry-After": "5"})
    again, created = submit(backends, chat("a", key, owner), limits)
    assert (again.id, created) == (first.id, False)
    with Session(backends.engine) as session:
        owned = session.exec(select(Job).where(Job.owner == owner)).all()
    assert [job.id for job in owned] == [first.id]  # the refused one left no row behind
