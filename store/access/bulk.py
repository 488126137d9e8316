"""Deleting an owner's finished jobs in bulk (`DELETE /jobs?status=&tag=`).

Unfinished jobs are never touched. Rows go in transactions of CHUNK jobs, so a large
delete never holds SQLite's write lock for long; Redis keys go after, best effort (they
expire on their own, as after retention).
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, and_, delete
from sqlmodel import Session, col, select

from store.access.listing import has_tag
from store.backends import Backends
from store.cleanup import delete_dependents, forget_live_state
from store.models import Job
from store.status import TERMINAL, JobStatus

log = logging.getLogger(__name__)

CHUNK = 500


def delete_finished(
    b: Backends, owner: str, status: JobStatus | None = None, tag: str | None = None
) -> int:
    """Delete the owner's finished jobs (of `status`, with `tag`); returns how many went."""
    statuses = [status.value] if status is not None else [s.value for s in TERMINAL]
    which = and_(col(Job.owner) == owner, col(Job.status).in_(statuses))
    if tag is not None:
        which = and_(which, has_tag(tag))
    deleted = 0
    while job_ids := _delete_chunk(b, which):
        deleted += len(job_ids)
        forget_live_state(b, job_ids)
    return deleted


def _delete_chunk(b: Backends, which: ColumnElement[bool]) -> list[str]:
    with Session(b.engine) as session, session.begin():
        job_ids = list(session.exec(select(Job.id).where(which).limit(CHUNK)))
        if job_ids:
            delete_dependents(session, job_ids)
            session.execute(delete(Job).where(col(Job.id).in_(job_ids)))
    return job_ids
