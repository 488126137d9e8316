"""Claims and completions of many jobs in one transaction (a worker process's batches,
actors/worker/batches.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Update, bindparam, select, update

from store import job_log
from store.backends import Backends
from store.errors import (
    JobcastError,
    JobNotFound,
    StaleAttempt,
)
from store.events import Publish
from store.jobs.base import (
    COMPLETED,
    JOB,
    JOB_COLUMNS,
    STARTED,
)
from store.models import Job, utcnow
from store.status import TRANSITIONS, JobStatus, check_transition
from store.usage import add_usage
from store.view import live_fields


def claim_many(b: Backends, job_ids: list[str], worker: str | None = None) -> list[Job]:
    """`claim` for many jobs at once (see `group_commit`).

    Returns the jobs it claimed. An id it did not claim was not pending or retrying, or
    is gone: `claim` it alone to learn which (a duplicate, a job to take over…).
    """
    return group_commit(b, job_ids, [], worker)[0]


def complete_many(b: Backends, ends: list[Completion]) -> list[Job | JobcastError]:
    """`complete` for many attempts at once (see `group_commit`): per end, in order, the
    completed job or the error `complete` would have raised (IllegalTransition,
    StaleAttempt, JobNotFound)."""
    return group_commit(b, [], ends)[1]


def group_commit(
    b: Backends, claims: list[str], ends: list[Completion], worker: str | None = None
) -> tuple[list[Job], list[Job | JobcastError]]:
    """Claims and completions of many jobs in one transaction, their status events in one
    Redis pipeline: one UPDATE … RETURNING claims, one locking SELECT, one read of the
    outputs and one UPDATE statement (run for each row) complete, one COMMIT."""
    with b.engine.begin() as conn:
        claiming = _claiming(claims, worker) if claims else None
        claimed = [] if claiming is None else [Job(**r) for r in conn.execute(claiming).mappings()]
        # Each claimed row's seq went up by one: the event's floor, so a Redis that lost
        # the counter still numbers the event above every seq the row has seen.
        events = [_status_event(job, job.seq - 1, {}) for job in claimed]
        done = _completing(conn, ends) if ends else []
        completed = [job for job in done if isinstance(job, Job)]
        events += [_status_event(job, job.seq, {"result": job.result}) for job in completed]
        for job, seq in zip(claimed + completed, b.events.publish_many(events), strict=True):
            job.seq = max(job.seq, seq)
        if completed:
            # Read once the terminal events are out, as base.transition does: no output
            # event a client was sent can then be missing from the row.
            outputs = b.events.outputs_of([job.id for job in completed])
            for job in completed:
                job.output = outputs.get(job.id)
            ended = [{"_id": job.id, **{n: getattr(job, n) for n in _ENDED}} for job in completed]
            conn.execute(_UPDATE_BY_ID, ended)
    for job in claimed:
        job_log.transition(job, JobStatus.PENDING)
    for job in completed:
        job_log.transition(job, JobStatus.RUNNING)
    return claimed, done


@dataclass(frozen=True)
class Completion:
    """A successful attempt's end, for `complete_many`."""

    job_id: str
    attempt: int
    result: dict[str, Any]
    usage: dict[str, Any]


_CLAIMABLE = [s.value for s, moves in TRANSITIONS.items() if JobStatus.RUNNING in moves]
_LOCK_MANY = (
    select(JOB).where(JOB.c.id.in_(bindparam("ids", expanding=True))).order_by(JOB.c.id)
).with_for_update()
# The columns an attempt's end writes, and the statement that writes them, row by row.
_ENDED = ["status", "progress", "result", "message", "output", "usage", "seq"]
_ENDED += ["finished_at", "updated_at"]
_UPDATE_BY_ID = update(JOB).where(JOB.c.id == bindparam("_id"))


def _claiming(job_ids: list[str], worker: str | None) -> Update:
    # Rows are locked in id order (PostgreSQL), as _LOCK_MANY does, so two processes
    # claiming overlapping batches (duplicate deliveries) cannot deadlock.
    claimable = JOB.c.status.in_(_CLAIMABLE)
    locked = select(JOB.c.id).where(JOB.c.id.in_(job_ids), claimable).order_by(JOB.c.id)
    now = utcnow()
    return (
        update(JOB)
        .where(JOB.c.id.in_(locked.with_for_update()), claimable)
        .values(
            status=JobStatus.RUNNING.value,
            attempts=JOB.c.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            retry_at=None,
            progress=0,
            message=STARTED,
            stage=None,
            result=None,
            error=None,
            output=None,
            seq=JOB.c.seq + 1,
            updated_at=now,
        )
        .returning(*JOB_COLUMNS)
    )


def _completing(conn: Connection, ends: list[Completion]) -> list[Job | JobcastError]:
    """The rows of `ends` locked and edited as `complete` does (not yet written)."""
    ids = sorted({end.job_id for end in ends})
    rows = conn.execute(_LOCK_MANY, {"ids": ids}).mappings()
    found = {row["id"]: Job(**row) for row in rows}
    done: list[Job | JobcastError] = []
    for end in ends:
        try:
            done.append(_completed(found.get(end.job_id), end))
        except JobcastError as refused:
            done.append(refused)
    return done


def _completed(job: Job | None, end: Completion) -> Job:
    """The row of `end`'s job completed, as `complete` edits it (not yet written)."""
    if job is None:
        raise JobNotFound(end.job_id)
    check_transition(job.id, JobStatus(job.status), JobStatus.COMPLETED)
    if job.attempts != end.attempt:
        raise StaleAttempt(f"job {job.id}: attempt {end.attempt} is over (now {job.attempts})")
    job.finished_at = job.updated_at = utcnow()
    add_usage(job, end.usage)
    job.progress, job.result, job.message = 100, end.result, COMPLETED
    job.status = JobStatus.COMPLETED
    return job


def _status_event(job: Job, floor: int, extra: dict[str, Any]) -> Publish:
    payload = {"status": job.status, "attempt": job.attempts, "message": job.message, **extra}
    return Publish(job.id, "status", payload, job.attempts, floor, live_fields(job))
