"""The reconciler: the database is the system of record; Redis may lose messages.

One pass puts back what was lost:
- `running` jobs whose lease went stale (store/attempts.py): their worker process died
  or hangs. The lifecycle retries them (or gives up after the job's maximum of
  attempts), and they are sent.
- `pending` jobs, and `retrying` jobs whose `retry_at` has passed, with no message on
  its way (store/enqueued.py): Redis was flushed or restarted, or the send failed.
  They are sent again; a duplicate message is harmless, since claiming is conditional.

Every worker runs it; `take_turn` lets one pass run per interval, and every change goes
through the row lock of store/jobs/, so overlapping passes are safe too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

from store import attempts, enqueued, jobs
from store.backends import Backends
from store.errors import IllegalTransition, JobNotFound, NotLost
from store.models import Job, WorkerProcess, utcnow
from store.retries import Backoff
from store.status import JobStatus

log = logging.getLogger(__name__)

BATCH = 200
# The heartbeat row of a worker process silent this long is dropped: its jobs were
# recovered a lease after it went silent.
FORGET_WORKERS_AFTER = timedelta(hours=1)
Send = Callable[[Job], None]


@dataclass
class Pass:
    recovered: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)


def reconcile(
    b: Backends,
    *,
    lease_s: float,
    grace_s: float,
    backoff: Backoff,
    send: Send,
    now: datetime | None = None,
) -> Pass:
    """One pass; `grace_s` spares jobs whose message may still be on its way."""
    now = now or utcnow()
    done = Pass()
    for job_id in _stale_running(b, now - timedelta(seconds=lease_s)):
        try:
            job = jobs.recover(b, job_id, now - timedelta(seconds=lease_s), backoff)
        except (NotLost, IllegalTransition, JobNotFound):
            continue
        done.recovered.append(job_id)
        if job.status == JobStatus.RETRYING:
            send(job)
    attempts.forget_workers(b, now - FORGET_WORKERS_AFTER)
    waiting = _waiting(b, now - timedelta(seconds=grace_s))
    lost = set(enqueued.unmarked(b, [job.id for job in waiting]))
    for job in (job for job in waiting if job.id in lost):
        log.warning("job %s: %s without a message; sending it again", job.id, job.status)
        send(job)
        done.resent.append(job.id)
    return done


def _stale_running(b: Backends, stale_before: datetime) -> list[str]:
    query = (
        select(Job.id)
        .outerjoin(WorkerProcess, col(WorkerProcess.name) == col(Job.worker))
        .where(col(Job.status) == JobStatus.RUNNING.value)
        .where(attempts.lease_stale(stale_before))
        .limit(BATCH)
    )
    with Session(b.reader) as session:
        return list(session.exec(query))


def _waiting(b: Backends, settled_before: datetime) -> list[Job]:
    pending = (col(Job.status) == JobStatus.PENDING.value) & (col(Job.updated_at) < settled_before)
    due = (col(Job.status) == JobStatus.RETRYING.value) & (col(Job.retry_at) < settled_before)
    query = select(Job).where(or_(pending, due)).order_by(col(Job.updated_at)).limit(BATCH)
    with Session(b.reader, expire_on_commit=False) as session:
        return list(session.exec(query))
