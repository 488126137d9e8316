"""The status changes of one job at a time (the diagram is in store/jobs/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from store import attempts
from store import cancel as cancel_signal
from store.backends import Backends
from store.errors import (
    IllegalTransition,
    NotLost,
)
from store.jobs.base import (
    CANCELLED,
    COMPLETED,
    QUEUED,
    STARTED,
    finish_row,
    transition,
)
from store.jobs.rows import failed_items
from store.models import Job, utcnow
from store.retries import Backoff, Failure, gave_up
from store.status import JobStatus
from store.times import iso
from store.usage import add_usage


def claim(b: Backends, job_id: str, worker: str | None = None) -> Job:
    """pending|retrying → running, starting a new attempt with a fresh lease.

    Raises IllegalTransition when the job is already running or finished, which is what
    a duplicate delivery of the same message finds.
    """

    def start(job: Job) -> dict[str, Any]:
        job.attempts += 1
        job.started_at = job.heartbeat_at = utcnow()
        job.worker, job.retry_at = worker, None
        job.progress, job.message, job.stage = 0, STARTED, None
        job.result, job.error, job.output = None, None, None
        return {}

    return transition(b, job_id, JobStatus.RUNNING, start)


def complete(
    b: Backends, job_id: str, attempt: int, result: dict[str, Any], usage: dict[str, Any]
) -> Job:
    def finish(job: Job) -> dict[str, Any]:
        finish_row(b, job, usage)
        job.progress, job.result, job.message = 100, result, COMPLETED
        return {"result": result}

    return transition(b, job_id, JobStatus.COMPLETED, finish, attempt=attempt)


def fail(
    b: Backends,
    job_id: str,
    attempt: int | None,
    error: dict[str, Any],
    usage: dict[str, Any] | None = None,
) -> Job:
    """Fail the job; `attempt` None fails it whatever attempt is current (e.g. before start)."""

    def finish(job: Job) -> dict[str, Any]:
        finish_row(b, job, usage)
        job.error, job.message = error, _failed_message(error)
        return {"error": error}

    return transition(b, job_id, JobStatus.FAILED, finish, attempt=attempt)


def end_attempt(
    b: Backends,
    job_id: str,
    attempt: int,
    failure: Failure,
    backoff: Backoff,
    usage: dict[str, Any] | None = None,
) -> Job:
    """A failed attempt: `retrying` if it was transient and attempts remain, else `failed`."""
    edit = _after_failure(b, failure, backoff, usage)
    return transition(b, job_id, _retry_or_fail(failure), edit, attempt=attempt)


def recover(b: Backends, job_id: str, stale_before: datetime, backoff: Backoff) -> Job:
    """A running job whose lease went stale lost its worker: retry it (or give up).

    Raises NotLost when the job is not running, or its lease holds (store/attempts.py).
    """

    def lost(job: Job) -> JobStatus:
        if job.status != JobStatus.RUNNING or attempts.lease_fresh(job, stale_before):
            raise NotLost(job_id)
        return _retry_or_fail(_lost_worker(job))(job)

    return transition(b, job_id, lost, _after_lost_worker(b, backoff))


def abandon(b: Backends, job_id: str, attempt: int, backoff: Backoff) -> Job:
    """A running attempt that its own worker process no longer runs (its end could not be
    recorded): retry the job (or give up), as for a lost worker."""

    def lost(job: Job) -> JobStatus:
        return _retry_or_fail(_lost_worker(job))(job)

    return transition(b, job_id, lost, _after_lost_worker(b, backoff), attempt=attempt)


def hand_back(b: Backends, job_id: str, attempt: int, usage: dict[str, Any] | None) -> Job:
    """A worker shutting down gives its running attempt back: `retrying`, due at once."""
    failure = Failure("worker_shutdown", f"attempt {attempt} was stopped by a worker shutdown")

    def edit(job: Job) -> dict[str, Any]:
        add_usage(job, usage)
        job.error, job.retry_at, job.heartbeat_at = failure.as_json(), utcnow(), None
        job.message = _retry_message(job, failure)
        return {"error": job.error, "retry_at": iso(job.retry_at)}

    return transition(b, job_id, JobStatus.RETRYING, edit, attempt=attempt)


def cancel(b: Backends, job_id: str, owner: str | None = None) -> Job:
    """Cancel a job that has not finished; its worker (on any host) is told to stop."""

    def finish(job: Job) -> dict[str, Any]:
        finish_row(b, job, None)
        job.retry_at = job.heartbeat_at = None
        job.error = {"code": "cancelled", "message": "cancelled on request"}
        job.message = CANCELLED
        return {"error": job.error}

    job = transition(b, job_id, JobStatus.CANCELLED, finish, owner=owner)
    cancel_signal.announce(b, job_id)
    return job


def reopen(b: Backends, job_id: str, owner: str | None, budget: int) -> Job:
    """failed|cancelled → pending: a retry through the API, with `budget` more attempts.

    A completed job re-opens only when some of its items failed (`result.failed_items`):
    its next attempt reuses the checkpoints of the items that succeeded (store/checkpoints.py)
    and runs the failed ones only. Any other completed job stays as it is (409).
    """

    def target(job: Job) -> JobStatus:
        if job.status == JobStatus.COMPLETED and not failed_items(job):
            raise IllegalTransition(job_id, JobStatus.COMPLETED, JobStatus.PENDING)
        return JobStatus.PENDING

    def again(job: Job) -> dict[str, Any]:
        job.max_attempts = job.attempts + budget
        job.progress, job.message, job.stage = 0, QUEUED, None
        job.result, job.error, job.output = None, None, None
        job.finished_at = job.retry_at = None
        return {}

    return transition(b, job_id, target, again, owner=owner)


def _retry_or_fail(failure: Failure) -> Callable[[Job], JobStatus]:
    def decide(job: Job) -> JobStatus:
        if failure.transient and job.attempts < job.max_attempts:
            return JobStatus.RETRYING
        return JobStatus.FAILED

    return decide


def _after_failure(
    b: Backends, failure: Failure, backoff: Backoff, usage: dict[str, Any] | None
) -> Callable[[Job], dict[str, Any]]:
    def edit(job: Job) -> dict[str, Any]:
        job.heartbeat_at = None
        if _retry_or_fail(failure)(job) is JobStatus.RETRYING:
            add_usage(job, usage)
            delay = backoff.delay(job.attempts, failure.retry_after)
            job.retry_at = utcnow() + timedelta(seconds=delay)
            job.error, job.message = failure.as_json(), _retry_message(job, failure)
            return {"error": job.error, "retry_at": iso(job.retry_at)}
        final = gave_up(job.attempts, failure) if failure.transient else failure
        finish_row(b, job, usage)
        job.error = final.as_json()
        job.message = _failed_message(job.error)
        return {"error": job.error}

    return edit


def _after_lost_worker(b: Backends, backoff: Backoff) -> Callable[[Job], dict[str, Any]]:
    def edit(job: Job) -> dict[str, Any]:
        return _after_failure(b, _lost_worker(job), backoff, None)(job)

    return edit


def _retry_message(job: Job, failure: Failure) -> str:
    return f"Attempt {job.attempts} ended ({failure.code}); waiting to retry"


def _failed_message(error: dict[str, Any]) -> str:
    return f"Failed ({error.get('code', 'internal')})"


def _lost_worker(job: Job) -> Failure:
    where = f" ({job.worker})" if job.worker else ""
    message = f"the worker{where} running attempt {job.attempts} stopped responding"
    return Failure("worker_lost", message, transient=True)
