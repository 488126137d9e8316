"""The run_job actors: receive a job's message, claim the job, run one attempt, and send
the message of the next attempt when the job is to be retried.

Messages carry only the job id; the row decides what happens. A message for a job that
is already running is a duplicate (ignored), unless the running attempt's lease has
gone stale: then its worker died, and the job is retried (or given up) from here.

Priority: one queue per level (named in store/keys.py). A job with `priority` above 0
goes to `jobs-high`, 0 to `jobs`, below 0 to `jobs-low`. A worker consumes all three (as
`dramatiq actors` does by default) and, of the messages it holds, starts high ones
first, then normal, then low.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

import dramatiq

from actors.broker import SEND_ERRORS, broker
from actors.metrics import Attempt
from actors.registry import MAX_TIME_LIMIT_S
from actors.worker import batches
from actors.worker.active import ACTIVE, worker_name
from actors.worker.attempt import run_attempt
from actors.worker.fair import SLOTS, add_waiting, claim_next, claim_or_skip, fair_policy
from actors.worker.lease import ProcessLease
from actors.worker.runtime import Runtime, runtime
from store import enqueued, jobs, tracing
from store.backends import Backends
from store.errors import INFRASTRUCTURE_ERRORS, IllegalTransition, JobNotFound, NotLost
from store.fairshare import FairPolicy
from store.keys import QUEUE, QUEUE_HIGH, QUEUE_LOW
from store.models import Job, utcnow
from store.status import JobStatus

log = logging.getLogger(__name__)

# Dramatiq's own time limit is only a backstop behind the pipeline's asyncio timeout,
# which fails the job cleanly; it interrupts a worker thread stuck outside asyncio.
BACKSTOP_MS = 30_000
# A dependency blip while claiming: the message is delivered again, up to this often.
CLAIM_REDELIVERIES = 8


def _redeliver(retries: int, error: BaseException) -> bool:
    """Dramatiq's retry policy for run_job: only for Redis or database errors.

    Pipeline failures never escape the actor (they end the attempt), and claiming is
    conditional, so a redelivered message cannot run a job twice.
    """
    return retries < CLAIM_REDELIVERIES and isinstance(error, INFRASTRUCTURE_ERRORS)


def _run_job(job_id: str) -> None:
    # A plain function, not a coroutine: the claim and the record of the attempt's end
    # are made from here, the Dramatiq thread that holds the message, in batches with
    # other threads' (actors/worker/batches.py); only the pipeline goes to the event
    # loop (actors/worker/attempt.py).
    rt = runtime()
    job = _claim(rt, job_id)
    if job is None:
        return
    attempt = Attempt.claimed(job)  # its queue wait, clock and trace span
    try:
        ended = attempt.ended(run_attempt(rt, job, on_loop=_on_loop))
    finally:
        ACTIVE.release(job.id, job.attempts)
        SLOTS.release(rt.backends, job.id)
        attempt.close()  # if run_attempt raised: observed as an `error`
    if ended is not None and ended.status == JobStatus.RETRYING:
        send_again(rt.backends, ended)


def _on_loop() -> None:
    """On the event loop, before each pipeline: its threads and channel, the lease."""
    runtime().adopt_loop()
    _lease().keep()


@lru_cache(maxsize=1)
def _lease() -> ProcessLease:
    """This process's lease, kept from its first job on."""
    rt = runtime()
    return ProcessLease(rt.backends, worker_name(), rt.lease_s, rt.backoff, send_again)


def _actor(name: str, queue: str, priority: int) -> dramatiq.Actor[[str], Any]:
    # Dramatiq's `priority`: of the messages a worker holds, the lowest number runs first.
    declare = dramatiq.actor(
        broker=broker,
        actor_name=name,
        queue_name=queue,
        priority=priority,
        retry_when=_redeliver,
        min_backoff=500,
        max_backoff=15_000,
        time_limit=MAX_TIME_LIMIT_S * 1000 + BACKSTOP_MS,
    )
    return declare(_run_job)


run_job_high = _actor("run_job_high", QUEUE_HIGH, priority=0)
run_job = _actor("run_job", QUEUE, priority=50)
run_job_low = _actor("run_job_low", QUEUE_LOW, priority=100)


def actor_for(priority: int) -> dramatiq.Actor[[str], Any]:
    return run_job_high if priority > 0 else run_job_low if priority < 0 else run_job


def send_job(
    b: Backends, job_id: str, priority: int = 0, delay_s: float = 0.0, owner: str | None = None
) -> None:
    """Send the job's message (after `delay_s`), marking it as on its way.

    With fair share on, a job due now (and whose `owner` is given) also joins its
    owner's pending set first (actors/worker/fair.py).
    """
    add_waiting(b, owner, job_id, priority, delay_s)
    enqueued.mark(b, job_id, delay_s)
    delay_ms = int(delay_s * 1000)
    try:
        options = tracing.message_options()  # the sender's trace, continued by the worker
        actor_for(priority).send_with_options(args=(job_id,), delay=delay_ms or None, **options)
    except SEND_ERRORS:
        enqueued.received(b, job_id)  # no message left: let the reconciler see that
        raise


def send_jobs(b: Backends, new_jobs: Sequence[Job]) -> None:
    """Send the messages of jobs due now (new ones: a submit's group, a batch), marking them.

    In one round trip when the broker can enqueue many at once (Redis: one script with
    the marks and wake-ups); otherwise one message at a time, as send_job does.
    """
    enqueue_many = getattr(broker, "enqueue_many", None)
    if enqueue_many is None:
        for job in new_jobs:
            send_job(b, job.id, job.priority, owner=job.owner)
        return
    for job in new_jobs:
        add_waiting(b, job.owner, job.id, job.priority, 0.0)
    messages = [_submitted_message(job) for job in new_jobs]
    marks = [b.keys.enqueued(job.id) for job in new_jobs]
    try:
        enqueue_many(messages, marks, enqueued.MARK_TTL_S)
    except SEND_ERRORS:
        for job in new_jobs:  # some may be marked: let the reconciler see them unsent
            enqueued.received(b, job.id)
        raise


def _submitted_message(job: Job) -> dramatiq.Message[Any]:
    """The job's message, carrying the trace its submit starts (web/jobs_api.py's `enqueue`)."""
    attributes = {"jobcast.job.id": job.id, "jobcast.job.type": job.type}
    with tracing.span("jobcast.submit", attributes):
        options = tracing.message_options()
        return actor_for(job.priority).message_with_options(args=(job.id,), **options)


def send_again(b: Backends, job: Job) -> None:
    """The message of a `retrying` job's next attempt, due at its `retry_at`."""
    delay = (job.retry_at - utcnow()).total_seconds() if job.retry_at else 0.0
    try:
        send_job(b, job.id, job.priority, max(delay, 0.0), owner=job.owner)
    except SEND_ERRORS as error:
        log.warning("job %s: next attempt not sent (%s); the reconciler will", job.id, error)


def _claim(rt: Runtime, job_id: str) -> Job | None:
    policy = fair_policy()
    if policy is not None:
        return rt.in_database_thread(_claim_fair, rt.backends, policy, job_id)
    job = batches.claim(job_id)
    if job is not None:
        return job
    # Not pending or retrying when its batch ran: claimed alone, to learn why.
    return _claim_alone(rt.backends, job_id)


def _claim_alone(b: Backends, job_id: str) -> Job | None:
    enqueued.received(b, job_id)
    try:
        job = jobs.claim(b, job_id, worker=worker_name())
    except JobNotFound:
        log.warning("job %s: no such job (deleted?); message dropped", job_id)
        return None
    except IllegalTransition as already:
        if already.current is JobStatus.RUNNING and _take_over(b, job_id):
            return None
        # At-least-once delivery: this message was delivered before, or the job ended.
        log.info("job %s: already %s; duplicate delivery ignored", job_id, already.current)
        b.redis.incr(b.keys.duplicate_deliveries)
        return None
    ACTIVE.hold(job.id, job.attempts)  # at once, so the lease never finds it unheld
    return job


def _claim_fair(b: Backends, policy: FairPolicy, ticket_id: str) -> Job | None:
    """The message is a ticket for the next job by fair share (a stale running job is
    the reconciler's to recover)."""
    worker = worker_name()
    job = claim_next(
        b,
        policy,
        ticket_id,
        runtime().lease_s,
        claim=lambda b, job_id: claim_or_skip(b, job_id, worker),
        resend=send_job,
    )
    if job is not None:
        ACTIVE.hold(job.id, job.attempts)
    return job


def _take_over(b: Backends, job_id: str) -> bool:
    """A redelivered message of a running job: if its worker died, retry the job."""
    rt = runtime()
    stale_before = utcnow() - timedelta(seconds=rt.lease_s)
    try:
        job = jobs.recover(b, job_id, stale_before, rt.backoff)
    except (NotLost, IllegalTransition):
        return False
    if job.status == JobStatus.RETRYING:
        send_again(b, job)
    return True
