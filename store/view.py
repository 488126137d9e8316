"""The Job JSON of the contract, built from the row and the live view in Redis."""

from __future__ import annotations

from typing import Any

from store.events import Snapshot
from store.models import Job
from store.status import TERMINAL
from store.times import iso


def live_fields(job: Job) -> dict[str, Any]:
    """The row's fields that change while a job runs, as the live view stores them."""
    return {
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "stage": job.stage,
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "retry_at": iso(job.retry_at),
        "usage": job.usage,
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "updated_at": iso(job.updated_at),
    }


def job_json(job: Job, live: Snapshot | None = None) -> dict[str, Any]:
    """The job as clients see it; the live view wins when it is at least as new as the row."""
    data: dict[str, Any] = {
        "id": job.id,
        "type": job.type,
        "params": job.params,
        "priority": job.priority,
        "time_limit": job.time_limit,
        "created_at": iso(job.created_at),
        **live_fields(job),
        "output": job.output,
        "seq": job.seq,
    }
    # A finished job's row is complete (and may know more: the usage of an attempt that
    # was stopped is written after the terminal event), so it wins at equal seq.
    finished = job.status in TERMINAL
    newer = live is not None and (live.seq > job.seq or (live.seq == job.seq and not finished))
    if live is not None and newer and live.fields:
        data.update(live.fields)
        data["seq"] = live.seq
        data["output"] = live.output
    return data
