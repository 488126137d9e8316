"""Each status change writes one log line, named for what happened (store/job_log.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from store import jobs
from store.backends import Backends
from store.logs import FIELDS
from store.models import utcnow
from store.retries import Backoff, Failure

BACKOFF = Backoff(base=4, cap=4)


def lines(caplog: pytest.LogCaptureFixture, job_id: str) -> list[dict[str, Any]]:
    fields = [getattr(record, FIELDS, {}) for record in caplog.records]
    return [line for line in fields if line.get("job_id") == job_id]


def test_every_transition_is_one_line_with_what_happened(
    backends: Backends, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="jobcast.jobs")
    params = {"prompt": "secret"}
    job_id = jobs.create(backends, type="chat", params=params, owner="ann", max_attempts=5).id
    jobs.claim(backends, job_id, worker="host:1")
    jobs.end_attempt(backends, job_id, 1, Failure("timeout", "late", transient=True), BACKOFF)
    jobs.claim(backends, job_id, worker="host:2")
    jobs.hand_back(backends, job_id, 2, None)
    jobs.claim(backends, job_id, worker="host:3")
    jobs.recover(backends, job_id, utcnow() + timedelta(seconds=1), BACKOFF)  # lease stale
    jobs.cancel(backends, job_id)
    jobs.reopen(backends, job_id, None, budget=1)
    jobs.claim(backends, job_id, worker="host:4")
    jobs.fail(backends, job_id, 4, {"code": "llm_error", "message": "the prompt was: secret"})
    jobs.delete(backends, job_id)

    seen = lines(caplog, job_id)
    assert [(line["event"], line["attempt"], line.get("reason")) for line in seen] == [
        ("submitted", 0, None),
        ("claimed", 1, None),
        ("timed_out", 1, "timeout"),
        ("claimed", 2, None),
        ("handed_back", 2, "worker_shutdown"),
        ("claimed", 3, None),
        ("worker_lost", 3, "worker_lost"),
        ("cancelled", 3, None),
        ("retry_requested", 3, None),
        ("claimed", 4, None),
        ("failed", 4, "llm_error"),
        ("deleted", 4, None),
    ]
    assert {(line["type"], line["owner"]) for line in seen} == {("chat", "ann")}
    assert 2 <= seen[2]["delay_s"] <= 4 and seen[4]["delay_s"] <= 0.1
    assert seen[-2]["status"] == "failed" and seen[-2]["duration_s"] >= 0
    assert "secret" not in caplog.text  # neither the prompt nor an error message
    levels = {r.getMessage(): r.levelname for r in caplog.records if r.name == "jobcast.jobs"}
    assert (levels["job claimed"], levels["job failed"], levels["job timed_out"]) == (
        "INFO", "WARNING", "WARNING",
    )  # fmt: skip


def test_a_submit_rolled_back_logs_nothing(
    backends: Backends, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="jobcast.jobs")

    with pytest.raises(RuntimeError), Session(backends.engine) as session, session.begin():
        jobs.create(backends, type="chat", params={"prompt": "x"}, session=session)
        raise RuntimeError("the transaction is rolled back")
    assert not [r for r in caplog.records if getattr(r, FIELDS, {}).get("event") == "submitted"]
