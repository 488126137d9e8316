"""The retry decision: counted in the row, backoff with jitter, a clear message on giving up."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from store import jobs
from store.backends import Backends
from store.errors import StaleAttempt
from store.models import utcnow
from store.retries import Backoff, Failure

TRANSIENT = Failure("llm_error", "the model server answered 503", transient=True)


def test_backoff_doubles_within_its_jittered_upper_half_up_to_the_cap() -> None:
    backoff = Backoff(base=2, cap=30)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (40, 30)]:
        delays = [backoff.delay(attempt, rng=rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one fixed value


def test_backoff_never_undercuts_the_servers_retry_after() -> None:
    backoff = Backoff(base=1, cap=10)
    assert backoff.delay(1, retry_after=42) == 42
    assert backoff.delay(1, retry_after=10**9) == 3600  # a hint, not a sentence
    assert 0.5 <= backoff.delay(1, retry_after=-5) <= 1


def new_running_job(b: Backends, max_attempts: int = 3) -> str:
    job_id = jobs.create(b, type="chat", params={"prompt": "x"}, max_attempts=max_attempts).id
    jobs.claim(b, job_id, worker="host:1")
    return job_id


def test_a_transient_failure_schedules_the_next_attempt(backends: Backends) -> None:
    job_id = new_running_job(backends)
    before = utcnow()
    usage = {"provider": "simulated", "completion_tokens": 5, "llm_calls": 1}
    job = jobs.end_attempt(backends, job_id, 1, TRANSIENT, Backoff(base=10, cap=10), usage)
    assert (job.status, job.attempts, job.error) == ("retrying", 1, TRANSIENT.as_json())
    assert job.retry_at is not None
    assert before + timedelta(seconds=5) <= job.retry_at <= utcnow() + timedelta(seconds=10)
    again = jobs.claim(backends, job_id)
    assert (again.status, again.attempts, again.retry_at, again.error) == ("running", 2, None, None)
    done = jobs.complete(backends, job_id, 2, {"text": "ok"}, usage)
    assert done.usage == {"provider": "simulated", "completion_tokens": 10, "llm_calls": 2}


def test_the_last_allowed_attempt_fails_the_job_saying_it_gave_up(backends: Backends) -> None:
    job_id = new_running_job(backends, max_attempts=2)
    jobs.end_attempt(backends, job_id, 1, TRANSIENT, Backoff(base=0.01))
    jobs.claim(backends, job_id)
    job = jobs.end_attempt(backends, job_id, 2, TRANSIENT, Backoff(base=0.01))
    assert (job.status, job.retry_at) == ("failed", None)
    assert job.error == {
        "code": "llm_error",
        "message": "gave up after 2 attempts; the last one failed: the model server answered 503",
    }


def test_a_permanent_failure_is_not_retried(backends: Backends) -> None:
    job_id = new_running_job(backends)
    permanent = Failure("llm_error", "400 bad request")
    job = jobs.end_attempt(backends, job_id, 1, permanent, Backoff())
    assert (job.status, job.error) == ("failed", permanent.as_json())


def test_a_stale_attempt_cannot_schedule_a_retry(backends: Backends) -> None:
    job_id = new_running_job(backends)
    with pytest.raises(StaleAttempt):
        jobs.end_attempt(backends, job_id, 5, TRANSIENT, Backoff())
    assert jobs.get(backends, job_id).status == "running"
