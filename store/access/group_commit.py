"""Group commit: independent submissions accepted in one transaction and one INSERT.

Each submission of a group is judged as `submissions.submit` judges one alone, in the
group's order: its Idempotency-Key, then its owner's limits, then its parent. One that
fails gets its own error (a 4xx for its client) and takes nothing from the others; those
that pass are inserted together, with their key rows, and committed once.

Within a group:
- the active-job cap is counted once per owner, in the transaction, and each accepted
  submission of that owner counts against the ones after it, as if each had committed
  before the next one counted;
- the rate takes the tokens of all its submissions in one Redis call, all or none; when
  an owner's bucket cannot give all of its, the group is judged again one by one, each
  submission taking its own token, as it would alone;
- a key used twice names one job: the first use creates it, the second is its replay (or
  KeyReused, for a different request);
- a concurrent request elsewhere that committed one of the group's keys first fails the
  INSERT: the group is judged again, and that submission then finds the winner's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store import jobs
from store.access import idempotency, parents
from store.access.quota import SubmissionLimits
from store.access.submissions import TRIES, Submission, submission_fields
from store.backends import Backends
from store.errors import ApiError, KeyReused
from store.models import Job

# What each submission of a group comes to: its job and whether it was created now
# (else a replay of its key), or the error its client is told.
Outcome = tuple[Job, bool] | ApiError


@dataclass
class _Group:
    """A group being judged: what is taken in so far, by index into `fields`."""

    limits: SubmissionLimits | None
    fields: list[dict[str, Any]] = field(default_factory=list)
    active: dict[str, int] = field(default_factory=dict)  # owner → counted + taken in
    keys: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)  # → (index, fp)
    # When set, the rate's tokens are taken once for the group: the owner of each one due.
    tokens: list[str] | None = None


def submit_group(
    b: Backends, group: list[Submission], limits: SubmissionLimits | None
) -> list[Outcome]:
    """The outcome of each submission, in order; all accepted ones committed together.

    Raises what one submission alone would raise for a dependency (the database, Redis
    down): then none is accepted.
    """
    for _ in range(TRIES):
        try:
            return _once(b, group, limits)
        except IntegrityError:
            if all(s.idempotency_key is None for s in group):
                raise
            # A concurrent request with one of these keys committed first.
    raise RuntimeError("idempotency keys of a submit group kept colliding")


def _once(b: Backends, group: list[Submission], limits: SubmissionLimits | None) -> list[Outcome]:
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        judged, decisions = _judge_all(session, group, _Group(limits, tokens=[]))
        if limits is not None and judged.tokens and not limits.take_tokens(judged.tokens):
            # Some owner is out of tokens: who is refused depends on the order, so each
            # submission takes its own, as alone (nothing was written yet).
            judged, decisions = _judge_all(session, group, _Group(limits))
        created = jobs.create_many(session, judged.fields) if judged.fields else []
        named = [(owner, key, created[i].id, fp) for (owner, key), (i, fp) in judged.keys.items()]
        if named:
            idempotency.remember_many(session, named)
    firsts = _firsts(decisions)
    return [_outcome(d, created, first) for d, first in zip(decisions, firsts, strict=True)]


def _judge_all(
    session: Session, group: list[Submission], judged: _Group
) -> tuple[_Group, list[int | Outcome]]:
    decisions: list[int | Outcome] = []  # an index: a job created by this group
    for s in group:
        try:
            decisions.append(_judge(session, judged, s))
        except ApiError as error:
            decisions.append(error)
    return judged, decisions


def _firsts(decisions: list[int | Outcome]) -> list[bool]:
    """Whether each decision is the first to name its new job (later ones are replays)."""
    seen: set[int] = set()
    firsts = []
    for d in decisions:
        firsts.append(isinstance(d, int) and d not in seen)
        if isinstance(d, int):
            seen.add(d)
    return firsts


def _outcome(decision: int | Outcome, created: list[Job], first: bool) -> Outcome:
    if isinstance(decision, int):
        return created[decision], first
    return decision


def _judge(session: Session, group: _Group, s: Submission) -> int | Outcome:
    """Judge one submission: its new job's index, a known job (a replay) or raise."""
    key = s.idempotency_key
    fp = s.fingerprint() if key is not None else ""
    if key is not None:
        if (s.owner, key) in group.keys:
            index, first_fp = group.keys[(s.owner, key)]
            if first_fp != fp:
                raise KeyReused(key)
            return index
        if known := idempotency.job_of(session, s.owner, key, fp):
            return known, False  # a replay: it spends none of the owner's limits
    if group.limits is not None:
        if s.owner not in group.active:
            group.active[s.owner] = group.limits.count_active(s.owner, session)
        group.limits.check(s.owner, session, active=group.active[s.owner])
    parents.check(session, s.owner, [s])
    group.active[s.owner] = group.active.get(s.owner, 0) + 1
    group.fields.append(submission_fields(s))
    if key is not None:
        group.keys[(s.owner, key)] = (len(group.fields) - 1, fp)
    return len(group.fields) - 1
