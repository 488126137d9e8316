"""Accepting a job: the one function that checks a submission against its owner's limits,
matches its Idempotency-Key and inserts it, in one transaction.

A replay of a known key returns the job that key created and spends nothing. Otherwise
the limits are checked (store/access/quota.py), then the job and its key row are inserted and
committed together; the caller enqueues the job after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store import jobs
from store.access import idempotency
from store.access.quota import SubmissionLimits
from store.backends import Backends
from store.models import Job

# A request that lost a race for its key retries this often: it then finds the winner's job.
TRIES = 5


@dataclass(frozen=True)
class Submission:
    """A validated request for a job, with its owner and optional Idempotency-Key."""

    owner: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    time_limit: int | None = None
    max_attempts: int = 3
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """What a key remembers of the request it was first used with."""
        request = {
            "type": self.type,
            "params": self.params,
            "priority": self.priority,
            "time_limit": self.time_limit,
        }
        return idempotency.fingerprint(request)


def submit(
    b: Backends, submission: Submission, limits: SubmissionLimits | None
) -> tuple[Job, bool]:
    """The job of this submission, and whether it was created now (else its key's job).

    Raises KeyReused, or RateLimited for a new job over the owner's limits (None: none),
    or its subclass BudgetExhausted when the owner's spend has reached its budget.
    """
    for _ in range(TRIES):
        try:
            return _submit_once(b, submission, limits)
        except IntegrityError:
            if submission.idempotency_key is None:
                raise
            # A concurrent request with the same key committed first.
    raise RuntimeError(f"idempotency key {submission.idempotency_key!r} kept colliding")


def _submit_once(b: Backends, s: Submission, limits: SubmissionLimits | None) -> tuple[Job, bool]:
    key = s.idempotency_key
    fingerprint = s.fingerprint() if key is not None else ""
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        if key is not None and (known := idempotency.job_of(session, s.owner, key, fingerprint)):
            return known, False  # a replay: it spends none of the owner's limits
        if limits is not None:
            limits.check(s.owner, session)  # its budget too, against the ledger
        job = jobs.create(
            b,
            type=s.type,
            params=s.params,
            owner=s.owner,
            priority=s.priority,
            time_limit=s.time_limit,
            max_attempts=s.max_attempts,
            session=session,
        )
        if key is not None:
            idempotency.remember(session, s.owner, key, job.id, fingerprint)
    return job, True
