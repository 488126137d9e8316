"""One attempt of a claimed job: run its pipeline under its time limit, stop when told
to, and record how it ended. (The process's lease, actors/worker/lease.py, keeps it alive.)

The pipeline runs as its own asyncio task, so a cancel (from any host), a shutdown or
the discovery that the attempt is no longer current stops it at its next await and
closes its model request. Whether a failed attempt is retried is decided by the
lifecycle (store/jobs/) from the attempts counted in the row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dramatiq.asyncio import get_event_loop_thread
from pydantic import ValidationError
from sqlmodel import SQLModel

from actors.pipeline.checkpoints import Checkpoints
from actors.pipeline.context import JobContext
from actors.pipeline.errors import JobError
from actors.pipeline.results import Rows, RowWriter
from actors.registry import JOB_TYPES, JobType
from actors.worker import batches
from actors.worker.active import ACTIVE, Running
from actors.worker.metering import meter_for
from actors.worker.runtime import Runtime
from store import attempts, checkpoints, jobs, results, tracing
from store.backends import Backends
from store.errors import INFRASTRUCTURE_ERRORS, IllegalTransition, StaleAttempt
from store.models import Job
from store.reporter import Reporter
from store.retries import Backoff, Failure

log = logging.getLogger(__name__)

# A dependency blip while recording the outcome: the outcome is in memory, so retry here.
RECORD_TRIES = 5

Outcome = dict[str, Any] | Failure


@dataclass(frozen=True)
class Ending:
    """How an attempt's pipeline ended: `outcome` None when it was stopped."""

    outcome: Outcome | None
    running: Running
    usage: dict[str, Any]


def run_attempt(rt: Runtime, job: Job, on_loop: Callable[[], None]) -> Job | None:
    """Run the attempt `job.attempts`; returns the row as recorded (None if it ended elsewhere).

    Called in the Dramatiq worker thread that holds the message. Only the pipeline runs
    on the process's event loop (after `on_loop()` there); its end is written from this
    thread (a completion, in a batch with others) or one of the runtime's database
    threads, so the loop, which carries every streaming job of the process, spends no
    time on a thread hop and a transaction per job.
    """
    b = rt.backends
    job_type = JOB_TYPES.get(job.type)
    if job_type is None:
        error = {"code": "internal", "message": f"no job type {job.type!r} on this worker"}
        return rt.in_database_thread(jobs.fail, b, job.id, job.attempts, error)
    loop_thread = get_event_loop_thread()
    if loop_thread is None:
        raise RuntimeError("the AsyncIO middleware has no event loop running")
    ending: Ending = loop_thread.run_coroutine(_pipeline_ending(rt, job_type, job, on_loop))
    if ending.outcome is None:
        return rt.in_database_thread(_with_retries, _stopped, b, job, ending.running, ending.usage)
    args = (ending.outcome, ending.usage, rt.backoff)
    if isinstance(ending.outcome, Failure):
        return rt.in_database_thread(_with_retries, _record, b, job, *args)
    # A completion is group-committed with other threads' (actors/worker/batches.py).
    return _with_retries(_record, b, job, *args)


async def _pipeline_ending(
    rt: Runtime, job_type: JobType, job: Job, on_loop: Callable[[], None]
) -> Ending:
    on_loop()
    reporter = Reporter(rt.backends, rt.events(), job.id, job.attempts)
    saved = await _checkpoints(rt.backends, job.id, job.attempts)
    ctx = JobContext(
        job.id, job.attempts, reporter, rt.llm_of_loop(), saved, _rows(rt.backends, job)
    )
    ctx.llm.meter = meter_for(rt, job, ctx, reporter)
    traced = tracing.task_context(job.id, job.attempts)  # None (a plain copy) when off
    pipeline = asyncio.create_task(_run_pipeline(job_type, job, ctx), context=traced)
    with ACTIVE.track(job.id, job.attempts, pipeline, ctx.stopped) as running:
        try:
            await asyncio.wait({pipeline})
        except asyncio.CancelledError:  # Dramatiq interrupted the actor itself
            pipeline.cancel()
            raise
    await ctx.finish_reporting()
    usage = ctx.usage.as_json()
    if pipeline.cancelled():
        return Ending(None, running, usage)
    return Ending(pipeline.result(), running, usage)


async def _checkpoints(b: Backends, job_id: str, attempt: int) -> Checkpoints:
    """What earlier attempts of the job saved, and how this one saves its steps."""

    async def save(key: str, value: Any, calls: int) -> None:
        try:
            await asyncio.to_thread(checkpoints.save, b, job_id, key, value, calls)
        except INFRASTRUCTURE_ERRORS as error:  # the step is done: only its reuse is lost
            log.warning("job %s: checkpoint %s not saved: %s", job_id, key, error)

    if attempt == 1:  # a first attempt has no earlier ones: no read, no thread hop
        return Checkpoints({}, save)
    try:
        saved = await asyncio.to_thread(checkpoints.load, b, job_id)
    except INFRASTRUCTURE_ERRORS as error:  # the attempt can still do the work itself
        log.warning("job %s: checkpoints not loaded, nothing is reused: %s", job_id, error)
        saved = {}
    return Checkpoints(saved, save)


def _rows(b: Backends, job: Job) -> RowWriter:
    """How the job's `save` stage writes; a database error fails the attempt as transient
    (the next attempt reuses the checkpoints and saves again, without duplicates)."""

    async def write(model: type[SQLModel], rows: Rows) -> int:
        return await asyncio.to_thread(results.upsert, b, model, rows, job.owner)

    return write


async def _run_pipeline(job_type: JobType, job: Job, ctx: JobContext) -> Outcome:
    limit = min(job.time_limit or job_type.time_limit, job_type.time_limit)
    try:
        params = job_type.params.model_validate(job.params)
    except ValidationError as error:
        return Failure("invalid_params", f"params no longer valid for {job.type}: {error}")
    scope = asyncio.timeout(limit)
    try:
        async with scope:
            await ctx.resume_note()
            result = await job_type.run(ctx, params)
            if job_type.save is not None:
                await ctx.save_stage(job_type.save, result)
            return result
    except TimeoutError as error:
        if not scope.expired():  # raised by the pipeline itself, not by its time limit
            return _crashed(job, error)
        return Failure("timeout", f"the job ran past its time limit of {limit} s")
    except JobError as error:
        return Failure(error.code, error.message, error.transient, error.retry_after)
    except INFRASTRUCTURE_ERRORS as error:
        message = f"lost a connection: {type(error).__name__}: {error}"
        return Failure("unavailable", message, transient=True)
    except Exception as error:
        return _crashed(job, error)


def _crashed(job: Job, error: Exception) -> Failure:
    log.error("job %s: pipeline crashed", job.id, exc_info=error)
    return Failure("internal", f"{type(error).__name__}: {error}")


def _record(
    b: Backends, job: Job, outcome: Outcome, usage: dict[str, Any], backoff: Backoff
) -> Job | None:
    try:
        if isinstance(outcome, Failure):
            return jobs.end_attempt(b, job.id, job.attempts, outcome, backoff, usage)
        return batches.complete(jobs.Completion(job.id, job.attempts, outcome, usage))
    except (IllegalTransition, StaleAttempt) as ended:
        log.info("job %s: ended elsewhere before this attempt finished (%s)", job.id, ended)
        attempts.save_usage(b, job.id, job.attempts, usage)
        return None


def _stopped(b: Backends, job: Job, running: Running, usage: dict[str, Any]) -> Job | None:
    """The pipeline was stopped: hand the job back on shutdown, else it ended elsewhere."""
    if running.reason == "shutdown":
        try:
            return jobs.hand_back(b, job.id, job.attempts, usage)
        except (IllegalTransition, StaleAttempt):
            pass
    attempts.save_usage(b, job.id, job.attempts, usage)
    return None


def _with_retries(record: Any, b: Backends, job: Job, *args: Any) -> Job | None:
    """Write an attempt's end; it exists only in memory, so ride out a short blip."""
    for attempt in range(RECORD_TRIES):
        try:
            result: Job | None = record(b, job, *args)
            return result
        except INFRASTRUCTURE_ERRORS as error:
            if attempt == RECORD_TRIES - 1:
                raise
            log.warning("job %s: recording the attempt failed (%s); retrying", job.id, error)
            time.sleep(0.5 * 2**attempt)
    return None
