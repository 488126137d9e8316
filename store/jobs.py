"""The job lifecycle: the only code that changes a job's status.

Every status change takes the row's lock, checks the transition table, publishes the
`status` event (which assigns its seq) and commits the row with that seq, in one
place. Terminal events are therefore written once, whoever races to write them.

    pending | retrying ──claim──▶ running            (a new attempt; +1 attempts)
    running ──complete──▶ completed
    running ──end_attempt | recover | abandon──▶ retrying   (transient, attempts left)
                                   └──▶ failed      (permanent, or none left)
    running ──hand_back──▶ retrying                 (its worker is shutting down)
    pending | running | retrying ──cancel──▶ cancelled
    failed | cancelled ──reopen──▶ pending          (a retry through the API)
    completed ──reopen──▶ pending                   (only with `result.failed_items`:
                                                     a retry of the failed items)

Each change also sets the job's `message` to say what is happening ("Queued",
"Completed", …; a running pipeline's progress replaces it), carries it in the `status`
event, and, once committed, writes one log line (store/job_log.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, event, insert, select, update
from sqlmodel import Session, col

from store import attempts, job_log
from store import cancel as cancel_signal
from store.backends import Backends
from store.cleanup import delete_dependents
from store.enqueued import forget_mark
from store.errors import IllegalTransition, JobNotFound, NotFinished, NotLost, StaleAttempt
from store.models import Job, utcnow
from store.retries import Backoff, Failure, gave_up
from store.status import JobStatus, check_transition
from store.times import iso
from store.usage import add_usage
from store.view import live_fields

Target = JobStatus | Callable[[Job], JobStatus]

# What a job's `message` says at each transition, until its pipeline reports progress.
QUEUED = "Queued"
STARTED = "Started"
COMPLETED = "Completed"
CANCELLED = "Cancelled"

_JOB: Table = Job.__table__  # type: ignore[attr-defined, unused-ignore]
_JOB_COLUMNS = tuple(_JOB.columns)
# The row a status change works on, locked until its transaction ends.
_SELECT_LOCKED = select(_JOB).where(_JOB.c.id == bindparam("id")).with_for_update()


def create(
    b: Backends,
    *,
    type: str,
    params: dict[str, Any],
    owner: str = "anonymous",
    priority: int = 0,
    time_limit: int | None = None,
    max_attempts: int = 3,
    session: Session | None = None,
    tags: str | None = None,
    parent_id: str | None = None,
) -> Job:
    """Insert a `pending` job and commit it (or insert it in `session`): the caller enqueues it."""
    job = Job(
        type=type,
        params=params,
        owner=owner,
        priority=priority,
        time_limit=time_limit,
        max_attempts=max_attempts,
        message=QUEUED,
        tags=tags,
        parent_id=parent_id,
    )
    # A plain INSERT, not session.add(): the unit of work's flush cost more than the rest
    # of a submit, and the row is never changed in this session.
    row = {column.name: getattr(job, column.name) for column in _JOB_COLUMNS}
    if session is not None:
        session.execute(insert(Job), [row])
        # Logged when the caller commits: a rolled-back submit (a lost race for an
        # Idempotency-Key) created nothing.
        event.listen(session, "after_commit", lambda _: job_log.submitted(job), once=True)
        return job
    with Session(b.engine) as own, own.begin():
        own.execute(insert(Job), [row])
    job_log.submitted(job)
    return job


def create_many(session: Session, fields: list[dict[str, Any]]) -> list[Job]:
    """Insert `pending` jobs (each of `fields` as create() takes them) in `session`, in one
    INSERT: a batch's rows cost one statement, not one each. The caller commits, then
    enqueues them."""
    created = [Job(**each, message=QUEUED) for each in fields]
    rows = [{column.name: getattr(job, column.name) for column in _JOB_COLUMNS} for job in created]
    session.execute(insert(Job), rows)

    def submitted(_: Session) -> None:
        for job in created:
            job_log.submitted(job)

    event.listen(session, "after_commit", submitted, once=True)
    return created


def get(b: Backends, job_id: str, owner: str | None = None) -> Job:
    with Session(b.reader, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise JobNotFound(job_id)
    return job


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

    return _transition(b, job_id, JobStatus.RUNNING, start)


def complete(
    b: Backends, job_id: str, attempt: int, result: dict[str, Any], usage: dict[str, Any]
) -> Job:
    def finish(job: Job) -> dict[str, Any]:
        _finish(b, job, usage)
        job.progress, job.result, job.message = 100, result, COMPLETED
        return {"result": result}

    return _transition(b, job_id, JobStatus.COMPLETED, finish, attempt=attempt)


def fail(
    b: Backends,
    job_id: str,
    attempt: int | None,
    error: dict[str, Any],
    usage: dict[str, Any] | None = None,
) -> Job:
    """Fail the job; `attempt` None fails it whatever attempt is current (e.g. before start)."""

    def finish(job: Job) -> dict[str, Any]:
        _finish(b, job, usage)
        job.error, job.message = error, _failed_message(error)
        return {"error": error}

    return _transition(b, job_id, JobStatus.FAILED, finish, attempt=attempt)


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
    return _transition(b, job_id, _retry_or_fail(failure), edit, attempt=attempt)


def recover(b: Backends, job_id: str, stale_before: datetime, backoff: Backoff) -> Job:
    """A running job whose lease went stale lost its worker: retry it (or give up).

    Raises NotLost when the job is not running, or its lease holds (store/attempts.py).
    """

    def lost(job: Job) -> JobStatus:
        if job.status != JobStatus.RUNNING or attempts.lease_fresh(job, stale_before):
            raise NotLost(job_id)
        return _retry_or_fail(_lost_worker(job))(job)

    return _transition(b, job_id, lost, _after_lost_worker(b, backoff))


def abandon(b: Backends, job_id: str, attempt: int, backoff: Backoff) -> Job:
    """A running attempt that its own worker process no longer runs (its end could not be
    recorded): retry the job (or give up), as for a lost worker."""

    def lost(job: Job) -> JobStatus:
        return _retry_or_fail(_lost_worker(job))(job)

    return _transition(b, job_id, lost, _after_lost_worker(b, backoff), attempt=attempt)


def hand_back(b: Backends, job_id: str, attempt: int, usage: dict[str, Any] | None) -> Job:
    """A worker shutting down gives its running attempt back: `retrying`, due at once."""
    failure = Failure("worker_shutdown", f"attempt {attempt} was stopped by a worker shutdown")

    def edit(job: Job) -> dict[str, Any]:
        add_usage(job, usage)
        job.error, job.retry_at, job.heartbeat_at = failure.as_json(), utcnow(), None
        job.message = _retry_message(job, failure)
        return {"error": job.error, "retry_at": iso(job.retry_at)}

    return _transition(b, job_id, JobStatus.RETRYING, edit, attempt=attempt)


def cancel(b: Backends, job_id: str, owner: str | None = None) -> Job:
    """Cancel a job that has not finished; its worker (on any host) is told to stop."""

    def finish(job: Job) -> dict[str, Any]:
        _finish(b, job, None)
        job.retry_at = job.heartbeat_at = None
        job.error = {"code": "cancelled", "message": "cancelled on request"}
        job.message = CANCELLED
        return {"error": job.error}

    job = _transition(b, job_id, JobStatus.CANCELLED, finish, owner=owner)
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

    return _transition(b, job_id, target, again, owner=owner)


def failed_items(job: Job) -> list[dict[str, Any]]:
    """The items a completed job's result lists as failed (none when it has no such list)."""
    listed = (job.result or {}).get("failed_items")
    return list(listed) if isinstance(listed, list) else []


def delete(b: Backends, job_id: str, owner: str | None = None) -> None:
    """Delete a finished job with its Redis keys and idempotency keys."""
    with Session(b.engine) as session, session.begin():
        job = _locked(session, job_id, owner)
        if not JobStatus(job.status).is_terminal:
            raise NotFinished(job_id, JobStatus(job.status))
        b.events.forget(job_id)
        forget_mark(b, job_id)
        delete_dependents(session, [job_id])
        session.delete(job)
    job_log.deleted(job)


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
        _finish(b, job, usage)
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


def _finish(b: Backends, job: Job, usage: dict[str, Any] | None) -> None:
    """What every end writes; the output is read once the terminal event is out."""
    job.finished_at = utcnow()
    add_usage(job, usage)


def _locked(session: Session, job_id: str, owner: str | None) -> Job:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or (owner is not None and job.owner != owner):
        raise JobNotFound(job_id)
    return job


def _transition(
    b: Backends,
    job_id: str,
    wanted: Target,
    edit: Callable[[Job], dict[str, Any]],
    *,
    attempt: int | None = None,
    owner: str | None = None,
) -> Job:
    # Core statements rather than an ORM session: claim and complete run for every job,
    # and the unit of work cost more CPU than the rest of the transition.
    with b.engine.begin() as conn:
        row = conn.execute(_SELECT_LOCKED, {"id": job_id}).mappings().first()
        if row is None or (owner is not None and row["owner"] != owner):
            raise JobNotFound(job_id)
        job = Job(**row)
        current = JobStatus(job.status)
        target = wanted(job) if callable(wanted) else wanted
        check_transition(job_id, current, target)
        if attempt is not None and job.attempts != attempt:
            raise StaleAttempt(f"job {job_id}: attempt {attempt} is over (now {job.attempts})")
        extra = edit(job)
        job.status = target
        job.updated_at = utcnow()
        payload = {
            "status": target.value,
            "attempt": job.attempts,
            "message": job.message,
            **extra,
        }
        seq = b.events.publish(
            job_id,
            "status",
            payload,
            attempt=job.attempts,
            floor=job.seq,
            view=live_fields(job),
            reopen=current.is_terminal,
        )
        if target.is_terminal:
            # Read only now: the channel refuses `output` events after the terminal one,
            # so no text a client was sent can be missing from the row.
            job.output = b.events.output_of(job_id)
        job.seq = max(job.seq, seq)
        changed = {name: getattr(job, name) for name in row if getattr(job, name) != row[name]}
        conn.execute(update(_JOB).where(_JOB.c.id == job_id).values(changed))
    job_log.transition(job, current)
    return job


def save_progress(
    b: Backends,
    job_id: str,
    attempt: int,
    progress: int,
    message: str | None,
    stage: str | None,
    seq: int,
) -> None:
    """Copy live progress to the row (callers bound the rate); a no-op once the attempt ended."""
    statement = (
        update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.status) == JobStatus.RUNNING.value,
            col(Job.attempts) == attempt,
            col(Job.seq) < seq,
        )
        .values(progress=progress, message=message, stage=stage, seq=seq, updated_at=utcnow())
    )
    with Session(b.engine) as session, session.begin():
        session.execute(statement)
