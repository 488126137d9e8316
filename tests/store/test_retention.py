"""Retention: finished jobs older than the TTL go with their Redis keys; nothing else does."""

from __future__ import annotations

from datetime import timedelta

from store import jobs
from store.backends import Backends
from store.chores import retention
from store.errors import JobNotFound
from store.models import utcnow


def finished_job(b: Backends) -> str:
    job_id = jobs.create(b, type="chat", params={"prompt": "x"}).id
    jobs.claim(b, job_id)
    jobs.complete(b, job_id, 1, {"text": "done"}, {"provider": "simulated"})
    return job_id


def test_old_finished_jobs_are_deleted_with_their_redis_keys(isolated_backends: Backends) -> None:
    b = isolated_backends
    old = finished_job(b)
    running = jobs.create(b, type="chat", params={"prompt": "x"}).id
    jobs.claim(b, running)
    keys = b.keys.job_keys(old)
    assert b.redis.exists(*keys)

    later = utcnow() + timedelta(hours=2)
    assert retention.purge(b, ttl_s=3600, now=later) >= 1
    assert b.redis.exists(*keys) == 0
    assert jobs.get(b, running).status == "running"
    try:
        jobs.get(b, old)
    except JobNotFound:
        pass
    else:
        raise AssertionError("the old job is still there")


def test_recent_finished_jobs_are_kept(isolated_backends: Backends) -> None:
    b = isolated_backends
    recent = finished_job(b)
    retention.purge(b, ttl_s=3600)
    assert jobs.get(b, recent).status == "completed"
