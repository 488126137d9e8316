"""Idempotency keys: one `Idempotency-Key` and owner name one job for 24 hours.

The key row is inserted in the transaction that inserts the job (store/access/submissions.py),
under a primary key on (owner, key): of concurrent requests with the same key, one
commits and the others fail on the key, roll their job back and find the winner's job.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from store.backends import Backends
from store.errors import KeyReused
from store.models import IdempotencyKey, Job, utcnow

WINDOW = timedelta(hours=24)


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_of(session: Session, owner: str, key: str, fingerprint: str) -> Job | None:
    """The job this key names, or None when the key is free (or freed here, when stale).

    Raises KeyReused when the key was first used with a different request.
    """
    known = session.get(IdempotencyKey, (owner, key))
    if known is None:
        return None
    if known.created_at > utcnow() - WINDOW:
        if known.fingerprint != fingerprint:
            raise KeyReused(key)
        job = session.get(Job, known.job_id)
        if job is not None:
            return job
    session.delete(known)  # expired, or its job was deleted: the key is free again
    session.flush()
    return None


def remember(session: Session, owner: str, key: str, job_id: str, fingerprint: str) -> None:
    """Name `job_id` by this key; commits (or fails on the key) with `session`."""
    session.add(IdempotencyKey(owner=owner, key=key, job_id=job_id, fingerprint=fingerprint))


def remember_many(session: Session, named: list[tuple[str, str, str, str]]) -> None:
    """Name each job by its key, given as (owner, key, job id, fingerprint), in one INSERT;
    commits (or fails on a key) with `session`."""
    now = utcnow()
    rows = [
        {"owner": owner, "key": key, "job_id": job_id, "fingerprint": fp, "created_at": now}
        for owner, key, job_id, fp in named
    ]
    session.execute(insert(IdempotencyKey), rows)


def forget_expired(b: Backends) -> int:
    """Delete keys past their window (retention calls this); returns how many."""
    expired = col(IdempotencyKey.created_at) < utcnow() - WINDOW
    with Session(b.reader) as session:  # look without a write lock first
        if session.exec(select(IdempotencyKey.key).where(expired).limit(1)).first() is None:
            return 0
    with Session(b.engine) as session, session.begin():
        return int(session.execute(delete(IdempotencyKey).where(expired)).rowcount)  # type: ignore[attr-defined, unused-ignore]


def batch_keys(key: str, count: int) -> list[str]:
    """The key rows of a batch's jobs, one per index: a client's key is printable ASCII,
    so these (with a unit separator) never meet a single submit's key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return [f"batch\x1f{digest}\x1f{index}" for index in range(count)]


def batch_of(session: Session, owner: str, key: str, fingerprint: str, count: int) -> list[Job]:
    """The jobs a batch key names that still exist, in the batch's order; [] when the key
    is free (or freed here, when stale). Raises KeyReused for another request's key."""
    names = batch_keys(key, count)
    rows = list(
        session.exec(
            select(IdempotencyKey).where(
                IdempotencyKey.owner == owner, col(IdempotencyKey.key).in_(names)
            )
        )
    )
    if not rows:
        return []
    if any(row.fingerprint != fingerprint for row in rows):
        raise KeyReused(key)
    job_ids = {row.key: row.job_id for row in rows}
    found = {
        job.id: job for job in session.exec(select(Job).where(col(Job.id).in_(job_ids.values())))
    }
    if min(row.created_at for row in rows) > utcnow() - WINDOW and found:
        return [found[job_ids[name]] for name in names if job_ids.get(name) in found]
    for row in rows:  # expired, or every job of it deleted: the key is free again
        session.delete(row)
    session.flush()
    return []


def remember_batch(
    session: Session, owner: str, key: str, job_ids: list[str], fingerprint: str
) -> None:
    """Name each job of a batch by its index under `key`; commits with `session`."""
    names, now = batch_keys(key, len(job_ids)), utcnow()
    rows = [
        {
            "owner": owner,
            "key": name,
            "job_id": job_id,
            "fingerprint": fingerprint,
            "created_at": now,
        }
        for name, job_id in zip(names, job_ids, strict=True)
    ]
    session.execute(insert(IdempotencyKey), rows)
