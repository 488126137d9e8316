"""The job lifecycle: the only code that changes a job's status.

Every status change takes the row's lock, checks the transition table, publishes the
`status` event (which assigns its seq) and commits the row with that seq, in one
place. Terminal events are therefore written once, whoever races to write them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from store.backends import Backends
from store.models import Job, utcnow
from store.status import JobStatus, check_transition
from store.view import live_fields


class JobNotFound(Exception):
    """No job with this id (for this owner)."""


class StaleAttempt(Exception):
    """A worker reported for an attempt that is no longer the job's current one."""


class BadCursor(ValueError):
    """A listing cursor that this server did not issue."""


def create(
    b: Backends,
    *,
    type: str,
    params: dict[str, Any],
    owner: str = "anonymous",
    priority: int = 0,
    time_limit: int | None = None,
) -> Job:
    """Insert a `pending` job and commit it: the caller enqueues it afterwards."""
    job = Job(type=type, params=params, owner=owner, priority=priority, time_limit=time_limit)
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        session.add(job)
    return job


def get(b: Backends, job_id: str, owner: str | None = None) -> Job:
    with Session(b.reader, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise JobNotFound(job_id)
    return job


def claim(b: Backends, job_id: str) -> Job:
    """pending|retrying → running, starting a new attempt.

    Raises IllegalTransition when the job is already running or finished, which is what
    a duplicate delivery of the same message finds.
    """

    def start(job: Job) -> dict[str, Any]:
        job.attempts += 1
        job.started_at = utcnow()
        job.progress, job.message, job.stage = 0, None, None
        job.result, job.error, job.output = None, None, None
        return {}

    return _transition(b, job_id, JobStatus.RUNNING, start)


def complete(
    b: Backends, job_id: str, attempt: int, result: dict[str, Any], usage: dict[str, Any]
) -> Job:
    def finish(job: Job) -> dict[str, Any]:
        _finish(b, job, usage)
        job.progress, job.result = 100, result
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
        job.error = error
        return {"error": error}

    return _transition(b, job_id, JobStatus.FAILED, finish, attempt=attempt)


def _finish(b: Backends, job: Job, usage: dict[str, Any] | None) -> None:
    job.finished_at = utcnow()
    job.output = b.events.output_of(job.id)
    if usage is not None:
        job.usage = usage


def _transition(
    b: Backends,
    job_id: str,
    wanted: JobStatus,
    edit: Callable[[Job], dict[str, Any]],
    *,
    attempt: int | None = None,
) -> Job:
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(job_id)
        current = JobStatus(job.status)
        check_transition(job_id, current, wanted)
        if attempt is not None and job.attempts != attempt:
            raise StaleAttempt(f"job {job_id}: attempt {attempt} is over (now {job.attempts})")
        extra = edit(job)
        job.status = wanted
        job.updated_at = utcnow()
        payload = {"status": wanted.value, "attempt": job.attempts, **extra}
        seq = b.events.publish(
            job_id,
            "status",
            payload,
            attempt=job.attempts,
            floor=job.seq,
            view=live_fields(job),
            reopen=current.is_terminal,
        )
        job.seq = max(job.seq, seq)
        session.add(job)
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


def list_page(
    b: Backends,
    *,
    owner: str,
    status: str | None = None,
    type: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Job], str | None]:
    """Newest first; `cursor` continues after the last job of the previous page."""
    query = select(Job).where(Job.owner == owner)
    if status is not None:
        query = query.where(Job.status == status)
    if type is not None:
        query = query.where(Job.type == type)
    if cursor is not None:
        created, last_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                col(Job.created_at) < created,
                (col(Job.created_at) == created) & (col(Job.id) < last_id),
            )
        )
    query = query.order_by(col(Job.created_at).desc(), col(Job.id).desc()).limit(limit + 1)
    with Session(b.reader, expire_on_commit=False) as session:
        jobs = list(session.exec(query))
    if len(jobs) <= limit:
        return jobs, None
    jobs = jobs[:limit]
    return jobs, _encode_cursor(jobs[-1])


def _encode_cursor(job: Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, job_id = raw.split("|", 1)
        return datetime.fromisoformat(created), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor("cursor is not one this server issued") from error
