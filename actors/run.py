"""The one actor: load a job, claim it, run its pipeline, record how it ended."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dramatiq
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from actors.context import JobContext
from actors.errors import JobError
from actors.registry import JOB_TYPES, MAX_TIME_LIMIT_S, JobType
from actors.runtime import Runtime, runtime
from store import jobs
from store.backends import Backends
from store.models import Job
from store.reporter import Reporter
from store.status import IllegalTransition

log = logging.getLogger(__name__)

QUEUE = "jobs"
# Dramatiq's own time limit is only a backstop behind the pipeline's asyncio timeout,
# which fails the job cleanly; it interrupts a worker thread stuck outside asyncio.
BACKSTOP_MS = 30_000
# A dependency blip while claiming: the message is delivered again, up to this often.
CLAIM_REDELIVERIES = 8
# A dependency blip while recording the outcome: the outcome is in memory, so retry here.
RECORD_TRIES = 5
INFRASTRUCTURE_ERRORS = (RedisError, SQLAlchemyError)


def _redeliver(retries: int, error: BaseException) -> bool:
    """Dramatiq's retry policy for run_job: only for Redis or database errors.

    Pipeline failures never escape the actor (they end the job), and claiming is
    conditional, so a redelivered message cannot run a job twice.
    """
    return retries < CLAIM_REDELIVERIES and isinstance(error, INFRASTRUCTURE_ERRORS)


@dramatiq.actor(
    queue_name=QUEUE,
    retry_when=_redeliver,
    min_backoff=500,
    max_backoff=15_000,
    time_limit=MAX_TIME_LIMIT_S * 1000 + BACKSTOP_MS,
)
async def run_job(job_id: str) -> None:
    rt = runtime()
    b = rt.backends
    try:
        job = await asyncio.to_thread(jobs.claim, b, job_id)
    except jobs.JobNotFound:
        log.warning("job %s: no such job (deleted?); message dropped", job_id)
        return
    except IllegalTransition as already:
        # At-least-once delivery: this message was delivered before, or the job ended.
        log.info("job %s: already %s; duplicate delivery ignored", job_id, already.current)
        await asyncio.to_thread(b.redis.incr, b.keys.duplicate_deliveries)
        return
    await _run_attempt(rt, job)


async def _run_attempt(rt: Runtime, job: Job) -> None:
    b = rt.backends
    job_type = JOB_TYPES.get(job.type)
    if job_type is None:
        error = {"code": "internal", "message": f"no job type {job.type!r} on this worker"}
        await asyncio.to_thread(jobs.fail, b, job.id, job.attempts, error)
        return
    ctx = JobContext(job.id, job.attempts, Reporter(b, job.id, job.attempts), rt.llm)
    outcome = await _run_pipeline(job_type, job, ctx)
    await ctx.finish_reporting()
    usage = ctx.usage.as_json()
    try:
        await _record(b, job, outcome, usage)
    except (IllegalTransition, jobs.StaleAttempt) as ended:
        log.info("job %s: ended elsewhere before this attempt finished (%s)", job.id, ended)


async def _record(b: Backends, job: Job, outcome: dict[str, Any], usage: dict[str, Any]) -> None:
    """Write the attempt's outcome; it exists only in memory, so ride out a short blip."""
    for attempt in range(RECORD_TRIES):
        try:
            if "result" in outcome:
                result = outcome["result"]
                await asyncio.to_thread(jobs.complete, b, job.id, job.attempts, result, usage)
            else:
                failure = outcome["error"]
                await asyncio.to_thread(jobs.fail, b, job.id, job.attempts, failure, usage)
            return
        except INFRASTRUCTURE_ERRORS as error:
            if attempt == RECORD_TRIES - 1:
                raise
            log.warning("job %s: recording the outcome failed (%s); retrying", job.id, error)
            await asyncio.sleep(0.5 * 2**attempt)


async def _run_pipeline(job_type: JobType, job: Job, ctx: JobContext) -> dict[str, Any]:
    limit = min(job.time_limit or job_type.time_limit, job_type.time_limit)
    try:
        params = job_type.params.model_validate(job.params)
        async with asyncio.timeout(limit):
            return {"result": await job_type.run(ctx, params)}
    except TimeoutError:
        return _error("timeout", f"the job ran past its time limit of {limit} s")
    except JobError as error:
        return {"error": error.as_json()}
    except ValidationError as error:
        return _error("invalid_params", f"params no longer valid for {job.type}: {error}")
    except Exception as error:
        log.exception("job %s: pipeline crashed", job.id)
        return _error("internal", f"{type(error).__name__}: {error}")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
