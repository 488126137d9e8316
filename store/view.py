"""The Job JSON of the contract, built from the row and the live view in Redis.

`JobView` describes it: the OpenAPI document's Job schema is generated from that model,
and a test holds `job_json` to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store import tags
from store.events import Snapshot
from store.models import Job
from store.status import TERMINAL, JobStatus
from store.times import iso

JsonObject = dict[str, Any]


class ChildrenView(BaseModel):
    """A parent's children, rolled up when the parent is read."""

    model_config = ConfigDict(extra="forbid", title="Children")

    total: int = Field(description="jobs whose `parent_id` is this job")
    progress: int = Field(
        ge=0, le=100, description="mean progress of the children; a finished child counts 100"
    )
    done: int = Field(description="children that are completed, failed or cancelled")
    statuses: dict[str, int] = Field(description="how many children have each status")


class JobView(BaseModel):
    """A job as clients see it (REST answers and WebSocket snapshots)."""

    model_config = ConfigDict(extra="forbid", title="Job")

    id: str
    type: str
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    message: str | None = Field(
        description="what is happening: `Queued`, `Started`, the pipeline's latest progress "
        "message, `Completed`, `Failed (code)`, `Cancelled`…"
    )
    stage: str | None
    params: JsonObject
    result: JsonObject | None
    error: JsonObject | None
    output: str | None = Field(description="text streamed so far by the current step")
    attempts: int = Field(description="attempts started so far")
    max_attempts: int = Field(
        description="attempts allowed before a job that keeps failing transiently fails; "
        "each retry through the API adds the type's maximum"
    )
    retry_at: datetime | None = Field(description="while `retrying`: when the next attempt starts")
    priority: int
    time_limit: int | None = Field(description="seconds")
    seq: int = Field(description="last event included in this view")
    usage: JsonObject | None
    tags: list[str] = Field(description="free-form labels given at submit, e.g. `project:42`")
    parent_id: str | None = Field(description="the job this one was submitted under")
    children: ChildrenView | None = Field(
        description="the roll-up of this job's children (REST answers; null without "
        "children and in WebSocket snapshots)"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


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
        "tags": tags.decode(job.tags),
        "parent_id": job.parent_id,
        "children": None,
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
