"""What every status change shares: the row locked, the transition checked, the `status`
event published and the row written, in one transaction (`transition`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlmodel import Session

from store import job_log
from store.backends import Backends
from store.errors import (
    JobNotFound,
    StaleAttempt,
)
from store.models import Job, utcnow
from store.status import JobStatus, check_transition
from store.usage import add_usage
from store.view import live_fields

Target = JobStatus | Callable[[Job], JobStatus]


# What a job's `message` says at each transition, until its pipeline reports progress.
QUEUED = "Queued"
STARTED = "Started"
COMPLETED = "Completed"
CANCELLED = "Cancelled"

JOB: Table = Job.__table__  # type: ignore[attr-defined, unused-ignore]
JOB_COLUMNS = tuple(JOB.columns)
# The row a status change works on, locked until its transaction ends.
SELECT_LOCKED = select(JOB).where(JOB.c.id == bindparam("id")).with_for_update()


def finish_row(b: Backends, job: Job, usage: dict[str, Any] | None) -> None:
    """What every end writes; the output is read once the terminal event is out."""
    job.finished_at = utcnow()
    add_usage(job, usage)


def locked(session: Session, job_id: str, owner: str | None) -> Job:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or (owner is not None and job.owner != owner):
        raise JobNotFound(job_id)
    return job


def transition(
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
        row = conn.execute(SELECT_LOCKED, {"id": job_id}).mappings().first()
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
        conn.execute(update(JOB).where(JOB.c.id == job_id).values(changed))
    job_log.transition(job, current)
    return job
