"""What a running attempt writes to its row besides its status: the lease that shows its
worker is alive, and its usage when it was stopped after the job ended elsewhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from store.backends import Backends
from store.models import Job, utcnow
from store.status import JobStatus
from store.usage import add_usage


def renew_lease(b: Backends, job_id: str, attempt: int) -> bool:
    """Renew a running attempt's lease; False when the attempt is over (cancelled, lost…)."""
    statement = (
        update(Job)
        .where(
            col(Job.id) == job_id,
            col(Job.status) == JobStatus.RUNNING.value,
            col(Job.attempts) == attempt,
        )
        .values(heartbeat_at=utcnow())
    )
    with Session(b.engine) as session, session.begin():
        return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def save_usage(b: Backends, job_id: str, attempt: int, usage: dict[str, Any]) -> None:
    """Add an attempt's usage after the job ended elsewhere (cancelled, taken over)."""
    with Session(b.engine) as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True)
        if job is not None and job.attempts == attempt:
            add_usage(job, usage)
            session.add(job)
