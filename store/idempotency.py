"""Idempotent submits: one `Idempotency-Key` and owner name one job for 24 hours.

The key row is inserted in the transaction that inserts the job, under a primary key
on (owner, key): of concurrent requests with the same key, one commits and the others
fail on the key, roll their job back and return the winner's job instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.backends import Backends
from store.models import IdempotencyKey, Job, utcnow

WINDOW = timedelta(hours=24)
# A losing request retries this often; only ever needed when keys collide concurrently.
TRIES = 5


class KeyReused(Exception):
    """The key was first used with a different request."""


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_once(
    b: Backends, owner: str, key: str, fingerprint: str, create: Callable[[Session], Job]
) -> tuple[Job, bool]:
    """The job this key names, created by `create` if the key is new; and whether it was."""
    for _ in range(TRIES):
        try:
            return _create_once(b, owner, key, fingerprint, create)
        except IntegrityError:
            continue  # a concurrent request with the same key committed first
    raise RuntimeError(f"idempotency key {key!r} kept colliding")


def _create_once(
    b: Backends, owner: str, key: str, fingerprint: str, create: Callable[[Session], Job]
) -> tuple[Job, bool]:
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        known = session.get(IdempotencyKey, (owner, key))
        if known is not None and known.created_at > utcnow() - WINDOW:
            if known.fingerprint != fingerprint:
                raise KeyReused(key)
            job = session.get(Job, known.job_id)
            if job is not None:
                return job, False
        if known is not None:  # expired, or its job was deleted: the key is free again
            session.delete(known)
            session.flush()
        job = create(session)
        session.add(IdempotencyKey(owner=owner, key=key, job_id=job.id, fingerprint=fingerprint))
    return job, True


def forget_expired(b: Backends) -> int:
    """Delete keys past their window (retention calls this); returns how many."""
    expired = col(IdempotencyKey.created_at) < utcnow() - WINDOW
    with Session(b.reader) as session:  # look without a write lock first
        if session.exec(select(IdempotencyKey.key).where(expired).limit(1)).first() is None:
            return 0
    with Session(b.engine) as session, session.begin():
        return int(session.execute(delete(IdempotencyKey).where(expired)).rowcount)  # type: ignore[attr-defined, unused-ignore]
