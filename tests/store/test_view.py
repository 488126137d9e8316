"""The Job JSON stays what the OpenAPI document's Job schema (store/view.py JobView) says."""

from __future__ import annotations

from store import jobs
from store.backends import Backends
from store.view import JobView, job_json


def test_every_stage_of_a_job_matches_the_documented_schema(backends: Backends) -> None:
    job = jobs.create(backends, type="chat", params={"prompt": "x"})
    views = [job_json(job)]
    running = jobs.claim(backends, job.id)
    views.append(job_json(running, backends.events.snapshot(job.id)))
    done = jobs.complete(backends, job.id, running.attempts, {"text": "y"}, {"llm_calls": 1})
    views.append(job_json(done, backends.events.snapshot(job.id)))
    for view in views:
        JobView.model_validate(view)  # every key documented, every documented key there
    assert [view["status"] for view in views] == ["pending", "running", "completed"]
