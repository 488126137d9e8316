"""The catalogue of job types: what each accepts and the pipeline that runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from actors.pipeline.context import JobContext
    from actors.pipeline.results import SaveStage

Pipeline = Callable[["JobContext", Any], Awaitable[dict[str, Any]]]

# The longest time limit a job type may declare; run_job's Dramatiq backstop is set by it.
MAX_TIME_LIMIT_S = 3600
# Most attempts a job type may allow (transient failures and lost workers each use one).
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class JobType:
    name: str
    title: str
    description: str
    params: type[BaseModel]
    run: Pipeline
    # Seconds; a job may ask for less with `time_limit`, never more.
    time_limit: int = 600
    # Attempts before a job that keeps failing transiently (or losing its worker) fails.
    max_attempts: int = 3
    # Saves the result where it outlives the job, after `run` (actors/pipeline/results.py).
    save: SaveStage | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "title": self.title,
            "description": self.description,
            "params_schema": self.params.model_json_schema(),
            "time_limit": self.time_limit,
            "max_attempts": self.max_attempts,
        }


JOB_TYPES: dict[str, JobType] = {}


def register(job_type: JobType) -> JobType:
    if job_type.name in JOB_TYPES:
        raise ValueError(f"job type {job_type.name!r} registered twice")
    if not 0 < job_type.time_limit <= MAX_TIME_LIMIT_S:
        raise ValueError(f"job type {job_type.name!r}: time_limit must be 1..{MAX_TIME_LIMIT_S}")
    if not 0 < job_type.max_attempts <= MAX_ATTEMPTS:
        raise ValueError(f"job type {job_type.name!r}: max_attempts must be 1..{MAX_ATTEMPTS}")
    JOB_TYPES[job_type.name] = job_type
    return job_type
