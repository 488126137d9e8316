"""What running attempts write besides their status: the lease that shows their worker is
alive, and their usage when they were stopped after the job ended elsewhere.

A lease is taken by the claim (`job.heartbeat_at`) and kept by the worker process: one
row per process in the `worker` table, renewed by one statement per interval however
many attempts the process runs. A running job is lost when both are stale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import object_session
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, or_, select

from store.backends import Backends
from store.models import Job, WorkerProcess, utcnow
from store.status import JobStatus
from store.usage import add_usage


def beat(b: Backends, worker: str) -> dict[str, int]:
    """Renew the leases of every attempt `worker` runs; returns the running jobs that the
    database says it runs, with their current attempt."""
    now = utcnow()
    renew = update(WorkerProcess).where(col(WorkerProcess.name) == worker)
    with Session(b.engine) as session, session.begin():
        if not session.execute(renew.values(heartbeat_at=now)).rowcount:  # type: ignore[attr-defined, unused-ignore]
            session.execute(insert(WorkerProcess).values(name=worker, heartbeat_at=now))
    mine = select(Job.id, Job.attempts).where(
        col(Job.status) == JobStatus.RUNNING.value, col(Job.worker) == worker
    )
    with Session(b.reader) as session:
        return dict(session.exec(mine).all())


def lease_fresh(job: Job, stale_before: datetime) -> bool:
    """Whether a running job's lease holds: claimed since `stale_before`, or its worker
    process has beaten since. Call it on a row locked in a session: the worker's row is
    locked too, so a beat cannot land between this check and what the caller does."""
    if job.heartbeat_at is not None and job.heartbeat_at >= stale_before:
        return True
    session = object_session(job)
    if job.worker is None or session is None:
        return False
    beating = session.get(WorkerProcess, job.worker, with_for_update=True)
    return beating is not None and beating.heartbeat_at >= stale_before


def lease_stale(stale_before: datetime) -> ColumnElement[bool]:
    """The same test as `lease_fresh`, negated, for a query joining `job` to `worker`."""
    claimed = col(Job.heartbeat_at)
    claim_stale = or_(
        claimed < stale_before, claimed.is_(None) & (col(Job.updated_at) < stale_before)
    )
    beat = col(WorkerProcess.heartbeat_at)
    return claim_stale & or_(beat.is_(None), beat < stale_before)


def forget_workers(b: Backends, silent_since: datetime) -> None:
    """Drop the rows of worker processes gone since `silent_since` (long after their jobs
    were recovered)."""
    gone = delete(WorkerProcess).where(col(WorkerProcess.heartbeat_at) < silent_since)
    with Session(b.engine) as session, session.begin():
        session.execute(gone)


def save_usage(b: Backends, job_id: str, attempt: int, usage: dict[str, Any]) -> None:
    """Add an attempt's usage after the job ended elsewhere (cancelled, taken over)."""
    with Session(b.engine) as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True)
        if job is not None and job.attempts == attempt:
            add_usage(job, usage)
            session.add(job)
