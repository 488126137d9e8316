"""The lifecycle: legal moves only, one terminal event, progress that never goes back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC

import pytest
from redis.asyncio import Redis as AsyncRedis

from store import jobs
from store.async_events import AsyncEventChannel
from store.backends import Backends
from store.errors import IllegalTransition, StaleAttempt
from store.reporter import Reporter
from store.retries import Backoff, Failure
from store.status import TRANSITIONS, JobStatus, check_transition


def new_job(b: Backends) -> str:
    return jobs.create(b, type="chat", params={"prompt": "hi"}).id


def statuses(b: Backends, job_id: str) -> list[str]:
    events = b.events.replay(job_id, 0) or []
    return [e.raw for e in events if e.kind == "status"]


def test_a_new_job_is_pending_at_seq_zero(backends: Backends) -> None:
    job = jobs.get(backends, new_job(backends))
    assert (job.status, job.seq, job.attempts, job.progress) == ("pending", 0, 0, 0)
    assert job.created_at.tzinfo is UTC


def test_claim_starts_an_attempt_and_publishes_running(backends: Backends) -> None:
    job_id = new_job(backends)
    job = jobs.claim(backends, job_id)
    assert (job.status, job.attempts, job.seq) == ("running", 1, 1)
    assert job.started_at is not None and job.started_at.tzinfo is UTC
    assert jobs.get(backends, job_id).seq == 1
    assert '"status": "running"' in statuses(backends, job_id)[0]


def test_each_status_change_says_what_is_happening_in_row_and_event(backends: Backends) -> None:
    job_id = new_job(backends)
    seen = [jobs.get(backends, job_id).message]
    jobs.claim(backends, job_id)
    failure = Failure("llm_error", "503", transient=True)
    seen.append(jobs.end_attempt(backends, job_id, 1, failure, Backoff(), None).message)
    jobs.cancel(backends, job_id)
    seen.append(jobs.reopen(backends, job_id, None, budget=1).message)
    jobs.claim(backends, job_id)
    jobs.fail(backends, job_id, 2, {"code": "timeout", "message": "too slow"})
    events = [json.loads(raw) for raw in statuses(backends, job_id)]
    assert seen == ["Queued", "Attempt 1 ended (llm_error); waiting to retry", "Queued"]
    assert [e["message"] for e in events] == [
        "Started", seen[1], "Cancelled", "Queued", "Started", "Failed (timeout)",
    ]  # fmt: skip
    assert jobs.get(backends, job_id).message == "Failed (timeout)"


def test_a_second_claim_is_refused(backends: Backends) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    with pytest.raises(IllegalTransition):
        jobs.claim(backends, job_id)
    assert jobs.get(backends, job_id).attempts == 1


def test_complete_sets_progress_100_and_result(backends: Backends) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    usage = {"provider": "simulated", "llm_calls": 1}
    job = jobs.complete(backends, job_id, 1, {"text": "done"}, usage)
    stored = jobs.get(backends, job_id)
    assert (stored.status, stored.progress, stored.result) == ("completed", 100, {"text": "done"})
    assert stored.usage == usage and stored.seq == job.seq == 2
    assert stored.finished_at is not None and stored.finished_at.tzinfo is UTC


@pytest.mark.parametrize("finish", ["complete", "fail"])
def test_terminal_states_never_change(backends: Backends, finish: str) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    if finish == "complete":
        jobs.complete(backends, job_id, 1, {"text": "x"}, {})
    else:
        jobs.fail(backends, job_id, 1, {"code": "internal", "message": "boom"})
    before = jobs.get(backends, job_id)
    with pytest.raises(IllegalTransition):
        jobs.complete(backends, job_id, 1, {"text": "late"}, {})
    with pytest.raises(IllegalTransition):
        jobs.fail(backends, job_id, 1, {"code": "internal", "message": "late"})
    with pytest.raises(IllegalTransition):
        jobs.claim(backends, job_id)
    after = jobs.get(backends, job_id)
    assert (after.status, after.seq, after.result, after.error) == (
        before.status,
        before.seq,
        before.result,
        before.error,
    )
    assert len(statuses(backends, job_id)) == 2  # running + the one terminal event


def test_a_pending_job_cannot_complete(backends: Backends) -> None:
    job_id = new_job(backends)
    with pytest.raises(IllegalTransition):
        jobs.complete(backends, job_id, 0, {"text": "x"}, {})
    assert jobs.get(backends, job_id).status == "pending"


def test_a_stale_attempt_cannot_finish_the_job(backends: Backends) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    with pytest.raises(StaleAttempt):
        jobs.complete(backends, job_id, 7, {"text": "x"}, {})
    assert jobs.get(backends, job_id).status == "running"


def test_the_transition_table_is_checked() -> None:
    for current in JobStatus:
        for wanted in JobStatus:
            if wanted in TRANSITIONS[current]:
                check_transition("j", current, wanted)
            else:
                with pytest.raises(IllegalTransition):
                    check_transition("j", current, wanted)
    # A completed job re-opens only for a retry of its failed items (jobs.reopen checks).
    assert TRANSITIONS[JobStatus.COMPLETED] == frozenset({JobStatus.PENDING})


@pytest.fixture
async def events(backends: Backends, redis_url: str) -> AsyncIterator[AsyncEventChannel]:
    """The asyncio event channel a worker publishes with, on this test's loop."""
    redis = AsyncRedis.from_url(redis_url)
    yield AsyncEventChannel(redis, backends.keys, ttl=3600)
    await redis.aclose()


async def test_progress_never_decreases_and_waits_for_completion_to_reach_100(
    backends: Backends, events: AsyncEventChannel
) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    reporter = Reporter(backends, events, job_id, 1, persist_every=0)
    shown = [await reporter.progress(p, f"step {p}") for p in (10, 50, 30, 100)]
    assert shown == [10, 50, 50, 99]
    published = [e for e in backends.events.replay(job_id, 0) or [] if e.kind == "progress"]
    assert [e.raw.count('"progress": 50') for e in published] == [0, 1, 1, 0]
    assert jobs.get(backends, job_id).progress == 99
    with pytest.raises(ValueError):
        await reporter.progress(101)


async def test_events_of_a_finished_job_are_refused(
    backends: Backends, events: AsyncEventChannel
) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    reporter = Reporter(backends, events, job_id, 1)
    await reporter.output("answer", "partial")
    jobs.fail(backends, job_id, 1, {"code": "internal", "message": "boom"})
    seq = jobs.get(backends, job_id).seq
    await reporter.progress(60, "late")
    await reporter.output("answer", " more")
    assert reporter.refused
    assert backends.events.snapshot(job_id).seq == seq
    assert jobs.get(backends, job_id).output == "partial"


async def test_progress_is_copied_to_the_row_at_a_bounded_rate(
    backends: Backends, events: AsyncEventChannel
) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    reporter = Reporter(backends, events, job_id, 1, persist_every=3600)
    await reporter.progress(10, "first")  # the claim wrote the row just now: not yet
    await reporter.progress(20, "second")
    assert jobs.get(backends, job_id).progress == 0
    await reporter.persist()
    row = jobs.get(backends, job_id)
    assert (row.progress, row.message, row.seq) == (20, "second", reporter.last_seq)


def test_progress_is_copied_only_to_the_current_attempt_and_never_back(backends: Backends) -> None:
    job_id = new_job(backends)
    jobs.claim(backends, job_id)
    jobs.save_progress(backends, job_id, 1, 40, "Halfway", "answer", 5)
    jobs.save_progress(backends, job_id, 1, 10, "Older", None, 4)  # an older seq: skipped
    jobs.save_progress(backends, job_id, 2, 90, "Other", None, 9)  # not the attempt: skipped
    job = jobs.get(backends, job_id)
    assert (job.progress, job.message, job.stage, job.seq) == (40, "Halfway", "answer", 5)
