"""Claiming under fair share (JOBCAST_FAIR_SHARE): a run_job message is a ticket.

Every job still gets its own message, but the worker that receives one runs whichever
job the fair pick (store/fairshare.py) says is next, across all owners, not necessarily
the message's own. There is one message per waiting job, so there is a ticket for every
job in the pending sets: a ticket that finds them empty has nothing left to run, and the
job it was sent for has been run by another ticket. The mark that tells the reconciler a
message is on its way (store/enqueued.py) is cleared for the job that runs, so a job
waiting its turn keeps its mark while some ticket is still out for it.

A ticket that arrives when every waiting owner is at its `max_running` cap is sent again
a little later (DEFER_S). Each picked job holds a running slot until its attempt ends;
the process lease renews the slots it holds, so a killed worker's slots expire.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import lru_cache

from redis.exceptions import RedisError

from store import enqueued, fairshare, jobs
from store.backends import Backends
from store.errors import IllegalTransition, JobNotFound
from store.fairshare import CAPPED, FairPolicy
from store.models import Job, utcnow
from store.settings import get_settings
from store.status import JobStatus

log = logging.getLogger(__name__)

# A ticket with every waiting owner at its cap comes back after this long.
DEFER_S = 0.5
# Picked jobs that turn out to be finished or running (a cancel, a duplicate) are skipped;
# at most this many per ticket, so one ticket never loops for long.
MAX_PICKS = 50

Claim = Callable[[Backends, str], Job | None]
Resend = Callable[[Backends, str, int, float], None]


@lru_cache(maxsize=1)
def fair_policy() -> FairPolicy | None:
    """This process's policy; None when fair share is off."""
    settings = get_settings()
    return settings.fair_policy() if settings.fair_share else None


class Slots:
    """The running slots this process holds: job id → owner."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, str] = {}

    def hold(self, job_id: str, owner: str) -> None:
        with self._lock:
            self._slots[job_id] = owner

    def release(self, b: Backends, job_id: str) -> None:
        with self._lock:
            owner = self._slots.pop(job_id, None)
        if owner is not None:
            try:
                fairshare.release(b, owner, job_id)
            except RedisError as error:  # the slot expires a lease from now
                log.warning("job %s: running slot not given back: %s", job_id, error)

    def renew(self, b: Backends, lease_s: float) -> None:
        with self._lock:
            slots = dict(self._slots)
        fairshare.renew(b, slots, lease_s)


SLOTS = Slots()


def add_waiting(b: Backends, owner: str | None, job_id: str, priority: int, delay_s: float) -> None:
    """On send: a job due now waits in its owner's pending set (fair share on)."""
    if owner is not None and delay_s <= 0 and fair_policy() is not None:
        fairshare.add(b, owner, job_id, priority)


def claim_next(
    b: Backends, policy: FairPolicy, ticket_id: str, lease_s: float, claim: Claim, resend: Resend
) -> Job | None:
    """Claim the next fair job for the ticket of `ticket_id`, or None if none may run."""
    _queue_own(b, ticket_id)
    for _ in range(MAX_PICKS):
        picked = fairshare.pick(b, policy, lease_s)
        if picked is None:
            # A message left over (delivered twice, or its job cancelled): counted as a
            # duplicate delivery, as without fair share.
            enqueued.received(b, ticket_id)
            b.redis.incr(b.keys.duplicate_deliveries)
            return None
        if picked == CAPPED:
            resend(b, ticket_id, 0, DEFER_S)
            return None
        assert isinstance(picked, fairshare.Picked)
        SLOTS.hold(picked.job_id, picked.owner)
        try:
            job = claim(b, picked.job_id)
        except BaseException:  # a dependency blip: the reconciler sends the job again
            SLOTS.release(b, picked.job_id)
            raise
        if job is not None:
            return job
        SLOTS.release(b, picked.job_id)
    resend(b, ticket_id, 0, 0.0)  # only skipped jobs so far: the ticket stays in play
    return None


def _queue_own(b: Backends, job_id: str) -> None:
    """A ticket's own job joins the pending set if it may run now: a retry that was sent
    with a delay, or a job whose place in Redis was lost."""
    try:
        job = jobs.get(b, job_id)
    except JobNotFound:
        return
    due = job.retry_at is None or job.retry_at <= utcnow()
    if job.status == JobStatus.PENDING or (job.status == JobStatus.RETRYING and due):
        fairshare.add(b, job.owner, job.id, job.priority)


def claim_or_skip(b: Backends, job_id: str, worker: str) -> Job | None:
    """Claim a picked job; None when it already ran, is running or is gone."""
    enqueued.received(b, job_id)
    try:
        return jobs.claim(b, job_id, worker=worker)
    except JobNotFound:
        log.info("job %s: picked but gone (deleted?); next", job_id)
        return None
    except IllegalTransition as already:  # cancelled while waiting, or a second entry
        log.info("job %s: picked but already %s; next", job_id, already.current)
        return None
