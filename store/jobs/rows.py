"""A job's row outside its status changes: inserted `pending`, read, deleted once finished,
and its live progress copied."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.orm import class_mapper
from sqlmodel import Session

from store import job_log
from store.backends import Backends
from store.cleanup import delete_dependents
from store.enqueued import forget_mark
from store.errors import (
    JobNotFound,
    NotFinished,
)
from store.jobs.base import (
    JOB,
    JOB_COLUMNS,
    QUEUED,
    locked,
)
from store.models import Job, new_job_id, utcnow
from store.status import JobStatus

# A new row's plain defaults (the ones made per row, id and times, are set in new_row).
_DEFAULTS = {
    column.name: Job.model_fields[column.name].default
    for column in JOB_COLUMNS
    if not Job.model_fields[column.name].is_required()
    and Job.model_fields[column.name].default_factory is None
}
_MANAGER = class_mapper(Job).class_manager


def new_row(fields: dict[str, Any]) -> dict[str, Any]:
    """A `pending` job's row from create()'s fields, with every default a Job() would have."""
    now = utcnow()
    return {**_DEFAULTS, "id": new_job_id(), "created_at": now, "updated_at": now, **fields}


def as_loaded(row: dict[str, Any]) -> Job:
    """The Job of a row just written, built the way a query builds one from its row.

    Job(...) sets each field through SQLAlchemy's and pydantic's hooks, which cost more than
    the INSERT's share of a submit; the row's values are already the row's.
    """
    job: Job = _MANAGER.new_instance()
    job.__dict__.update(row)
    return job


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
    row = new_row(
        {
            "type": type,
            "params": params,
            "owner": owner,
            "priority": priority,
            "time_limit": time_limit,
            "max_attempts": max_attempts,
            "message": QUEUED,
            "tags": tags,
            "parent_id": parent_id,
        }
    )
    job = as_loaded(row)
    # A plain INSERT, not session.add(): the unit of work's flush cost more than the rest
    # of a submit, and the row is never changed in this session.
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
    rows = [new_row({**each, "message": QUEUED}) for each in fields]
    created = [as_loaded(row) for row in rows]
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


def failed_items(job: Job) -> list[dict[str, Any]]:
    """The items a completed job's result lists as failed (none when it has no such list)."""
    listed = (job.result or {}).get("failed_items")
    return list(listed) if isinstance(listed, list) else []


def delete(b: Backends, job_id: str, owner: str | None = None) -> None:
    """Delete a finished job with its Redis keys and idempotency keys."""
    with Session(b.engine) as session, session.begin():
        job = locked(session, job_id, owner)
        if not JobStatus(job.status).is_terminal:
            raise NotFinished(job_id, JobStatus(job.status))
        b.events.forget(job_id)
        forget_mark(b, job_id)
        delete_dependents(session, [job_id])
        session.delete(job)
    job_log.deleted(job)


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
    row = {"_id": job_id, "_attempt": attempt, "_seq": seq, "_now": utcnow()}
    row |= {"_progress": progress, "_message": message, "_stage": stage}
    with b.engine.begin() as conn:
        conn.execute(_SAVE_PROGRESS, row)


# One Core statement built once: the ORM's bulk UPDATE path (a Session, a statement built
# and its cache key computed per call) was most of a progress copy's CPU (docs/PERFORMANCE.md).
_SAVE_PROGRESS = (
    update(JOB)
    .where(
        JOB.c.id == bindparam("_id"),
        JOB.c.status == JobStatus.RUNNING.value,
        JOB.c.attempts == bindparam("_attempt"),
        JOB.c.seq < bindparam("_seq"),
    )
    .values(
        progress=bindparam("_progress"),
        message=bindparam("_message"),
        stage=bindparam("_stage"),
        seq=bindparam("_seq"),
        updated_at=bindparam("_now"),
    )
)
