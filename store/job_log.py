"""One log line per job event, written by the lifecycle (store/jobs/) once it committed.

Every line carries `event`, `job_id`, `type`, `attempt`, `owner` and the `status` the job
is in now; some add more:

    submitted        (web) a new job was accepted                      priority
    claimed          a worker started an attempt                       worker
    retrying         an attempt failed transiently; another follows    reason, delay_s, duration_s
    timed_out        an attempt ran past its time limit                reason, delay_s?, duration_s
    worker_lost      the attempt's worker stopped responding           reason, delay_s?
    handed_back      a worker shutting down gave its attempt back      reason, delay_s
    completed        the job is done                                   duration_s, tokens
    failed           the job failed for good                           reason, duration_s, tokens
    cancelled        (web) cancelled on request
    retry_requested  (web) a failed or cancelled job was queued again
    deleted          (web) a finished job was deleted

`reason` is the error code only: error messages can quote a model's or a user's text,
and prompts never go to logs (GET /jobs/{id} shows the message to the job's owner).
"""

from __future__ import annotations

import logging
from typing import Any

from store.logs import FIELDS
from store.models import Job, utcnow
from store.status import JobStatus

log = logging.getLogger("jobcast.jobs")

# Failure codes whose transition is an event of its own, not a plain `retrying`/`failed`.
_CODE_EVENTS = {"timeout": "timed_out", "worker_lost": "worker_lost"}
_TOKENS = ("prompt_tokens", "completion_tokens", "llm_calls", "provider")


def submitted(job: Job) -> None:
    _write(logging.INFO, "submitted", job, {"priority": job.priority})


def deleted(job: Job) -> None:
    _write(logging.INFO, "deleted", job, {})


def transition(job: Job, before: JobStatus) -> None:
    """The line for a status change from `before` to `job.status` (already committed)."""
    now = JobStatus(job.status)
    code = str((job.error or {}).get("code", ""))
    ran = _duration(job) if before is JobStatus.RUNNING else {}
    if now is JobStatus.RUNNING:
        _write(logging.INFO, "claimed", job, {"worker": job.worker})
    elif now is JobStatus.PENDING:
        _write(logging.INFO, "retry_requested", job, {"max_attempts": job.max_attempts})
    elif now is JobStatus.CANCELLED:
        _write(logging.INFO, "cancelled", job, {"was": before.value})
    elif now is JobStatus.COMPLETED:
        _write(logging.INFO, "completed", job, {**ran, **_tokens(job)})
    elif now is JobStatus.RETRYING:
        event = "handed_back" if code == "worker_shutdown" else _CODE_EVENTS.get(code, "retrying")
        level = logging.INFO if event in ("retrying", "handed_back") else logging.WARNING
        _write(level, event, job, {"reason": code, **_delay(job), **ran})
    else:
        event = _CODE_EVENTS.get(code, "failed")
        fields = {"reason": code, **ran, **_tokens(job)}
        _write(logging.WARNING, event, job, fields)


def _write(level: int, event: str, job: Job, more: dict[str, Any]) -> None:
    if not log.isEnabledFor(level):
        return
    fields = {
        "event": event,
        "job_id": job.id,
        "type": job.type,
        "attempt": job.attempts,
        "owner": job.owner,
        "status": JobStatus(job.status).value,
        **{name: value for name, value in more.items() if value is not None},
    }
    log.log(level, "job %s", event, extra={FIELDS: fields})


def _delay(job: Job) -> dict[str, Any]:
    if job.retry_at is None:
        return {}
    return {"delay_s": round(max((job.retry_at - utcnow()).total_seconds(), 0.0), 3)}


def _duration(job: Job) -> dict[str, Any]:
    """How long the attempt that just ended ran (from its claim)."""
    if job.started_at is None:
        return {}
    return {"duration_s": round((job.updated_at - job.started_at).total_seconds(), 3)}


def _tokens(job: Job) -> dict[str, Any]:
    """The job's usage over all its attempts."""
    usage = job.usage or {}
    return {name: usage[name] for name in _TOKENS if name in usage}
