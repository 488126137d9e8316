"""Checkpoints: the first save of a step wins, later attempts load them, and they go
with their job (deleted by the API or by retention)."""

from __future__ import annotations

from datetime import timedelta

from store import checkpoints, jobs
from store.backends import Backends
from store.checkpoints import Saved
from store.chores import retention
from store.models import utcnow


def finished_job(b: Backends) -> str:
    job_id = jobs.create(b, type="chat", params={"prompt": "x"}).id
    jobs.claim(b, job_id)
    jobs.complete(b, job_id, 1, {"text": "done"}, {"provider": "simulated"})
    return job_id


def test_a_step_is_saved_once_and_loaded_by_key(backends: Backends) -> None:
    job_id = jobs.create(backends, type="chat", params={"prompt": "x"}).id
    checkpoints.save(backends, job_id, "brief", "A world of ash.", 1)
    checkpoints.save(backends, job_id, "brief", "another answer", 1)  # a duplicate attempt
    checkpoints.save(backends, job_id, "batch/3", [{"id": 41}], 2)
    assert checkpoints.load(backends, job_id) == {
        "brief": Saved("A world of ash.", 1),
        "batch/3": Saved([{"id": 41}], 2),
    }


def test_checkpoints_go_with_their_job(isolated_backends: Backends) -> None:
    b = isolated_backends
    deleted, purged = finished_job(b), finished_job(b)
    for job_id in (deleted, purged):
        checkpoints.save(b, job_id, "brief", "text", 1)
    jobs.delete(b, deleted)
    assert retention.purge(b, ttl_s=3600, now=utcnow() + timedelta(hours=2)) >= 1
    assert checkpoints.load(b, deleted) == checkpoints.load(b, purged) == {}
