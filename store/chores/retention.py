"""Retention: finished jobs older than JOBCAST_JOB_TTL go, with their Redis keys.

Run periodically by the workers (one of them per interval, see store/chores/locks.py). Rows go
first; Redis keys after, best effort (they expire on their own JOBCAST_JOB_TTL anyway).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from store.access import idempotency
from store.backends import Backends
from store.cleanup import delete_dependents, forget_live_state
from store.models import Job, utcnow
from store.status import TERMINAL

log = logging.getLogger(__name__)

BATCH = 500
FINISHED = [status.value for status in TERMINAL]


def purge(b: Backends, ttl_s: float, now: datetime | None = None) -> int:
    """Delete up to BATCH finished jobs older than `ttl_s`; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(seconds=ttl_s)
    old = (col(Job.status).in_(FINISHED)) & (col(Job.finished_at) < cutoff)
    # Look first without a write lock: on SQLite a write transaction blocks every writer.
    with Session(b.reader) as session:
        job_ids = list(session.exec(select(Job.id).where(old).limit(BATCH)))
    if job_ids:
        with Session(b.engine) as session, session.begin():
            delete_dependents(session, job_ids)
            session.execute(delete(Job).where(old, col(Job.id).in_(job_ids)))
    forget_live_state(b, job_ids)
    idempotency.forget_expired(b)
    if job_ids:
        log.info("retention: deleted %d jobs finished before %s", len(job_ids), cutoff)
    return len(job_ids)
