"""A job's checkpoints: the outputs of its finished stages and fan-out items.

A pipeline saves each step as it finishes (actors/pipeline/checkpoints.py); the next
attempt of the same job, after a crash, a time-out, a retryable error or a retry through
the API, loads them and skips those steps. They live as long as the job: deleting the
job (by the API or by retention) deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.backends import Backends
from store.models import JobCheckpoint


@dataclass(frozen=True)
class Saved:
    value: Any
    calls: int  # the model calls it took


def load(b: Backends, job_id: str) -> dict[str, Saved]:
    """Every checkpoint of the job, by key."""
    statement = select(JobCheckpoint).where(col(JobCheckpoint.job_id) == job_id)
    with Session(b.reader) as session:
        rows = session.execute(statement).scalars().all()
    return {row.key: Saved(row.value, row.calls) for row in rows}


def save(b: Backends, job_id: str, key: str, value: Any, calls: int) -> None:
    """Record a finished step; the first write of a key wins (a duplicate is the same work)."""
    row = JobCheckpoint(job_id=job_id, key=key, value=value, calls=calls)
    try:
        with Session(b.engine) as session, session.begin():
            session.add(row)
    except IntegrityError:
        pass


def forget(session: Session, job_ids: Sequence[str]) -> None:
    """Delete the checkpoints of jobs being deleted, in the caller's transaction."""
    session.execute(delete(JobCheckpoint).where(col(JobCheckpoint.job_id).in_(job_ids)))
