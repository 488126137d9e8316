"""Accepting a job: the one function that checks a submission against its owner's limits,
matches its Idempotency-Key and inserts it, in one transaction.

A replay of a known key returns the job that key created and spends nothing. Otherwise
the limits are checked (store/access/quota.py), then the job and its key row are inserted and
committed together; the caller enqueues the job after the commit. A batch
(`submit_batch`) does the same for many jobs in one transaction: all of them or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store import jobs, tags
from store.access import idempotency, parents
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
    tags: tuple[str, ...] = ()
    parent_id: str | None = None

    def fingerprint(self) -> str:
        """What a key remembers of the request it was first used with."""
        return idempotency.fingerprint(self.request())

    def request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "type": self.type,
            "params": self.params,
            "priority": self.priority,
            "time_limit": self.time_limit,
        }
        # Only when given: the keys of submissions without them keep their fingerprints.
        if self.tags:
            request["tags"] = list(self.tags)
        if self.parent_id is not None:
            request["parent_id"] = self.parent_id
        return request


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
        parents.check(session, s.owner, [s])
        job = _insert(b, s, session)
        if key is not None:
            idempotency.remember(session, s.owner, key, job.id, fingerprint)
    return job, True


def _insert(b: Backends, s: Submission, session: Session) -> Job:
    return jobs.create(b, **submission_fields(s), session=session)


def submission_fields(s: Submission) -> dict[str, Any]:
    """The row's fields of a submission, as jobs.create() takes them."""
    return {
        "type": s.type,
        "params": s.params,
        "owner": s.owner,
        "priority": s.priority,
        "time_limit": s.time_limit,
        "max_attempts": s.max_attempts,
        "tags": tags.encode(list(s.tags)),
        "parent_id": s.parent_id,
    }


def submit_batch(
    b: Backends,
    owner: str,
    batch: list[Submission],
    key: str | None,
    limits: SubmissionLimits | None,
) -> tuple[list[Job], bool]:
    """The jobs of this batch, all inserted in one transaction (or none), and whether they
    were created now (else the jobs its key's batch created, those not deleted since).

    Raises KeyReused, UnknownParent, or RateLimited when the owner's limits cannot take
    them all (one submission of the rate, len(batch) of the active-job cap).
    """
    for _ in range(TRIES):
        try:
            return _submit_batch_once(b, owner, batch, key, limits)
        except IntegrityError:
            if key is None:
                raise
    raise RuntimeError(f"idempotency key {key!r} kept colliding")


def _submit_batch_once(
    b: Backends,
    owner: str,
    batch: list[Submission],
    key: str | None,
    limits: SubmissionLimits | None,
) -> tuple[list[Job], bool]:
    fingerprint = idempotency.fingerprint({"jobs": [s.request() for s in batch]})
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        if key is not None:
            known = idempotency.batch_of(session, owner, key, fingerprint, len(batch))
            if known:
                return known, False
        if limits is not None:
            limits.check(owner, session, jobs=len(batch))
        parents.check(session, owner, batch, field="jobs[{index}].parent_id")
        created = jobs.create_many(session, [submission_fields(s) for s in batch])
        if key is not None:
            idempotency.remember_batch(
                session, owner, key, [job.id for job in created], fingerprint
            )
    return created, True
