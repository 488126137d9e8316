"""REST routes that act on one job: cancel, retry, delete.

A retry re-opens a failed or cancelled job, or a completed one with failed items
(`?items=failed`): its next attempt reuses every checkpointed step, so only what failed
runs again (store/jobs/ `reopen`).

Each is scoped to the caller's jobs (someone else's job is a 404) and answers 409 when
the job's state does not allow the action: the store raises JobNotFound,
IllegalTransition or NotFinished (store/errors.py), web/errors.py answers them.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors import JOB_TYPES
from store import jobs
from store.backends import Backends
from store.errors import InvalidQuery
from store.models import Job
from store.view import job_json
from web.auth import owner_of
from web.jobs_api import backends, enqueue, live_job, submission_limits

# Attempts a retried job gets when its type is no longer registered on this web process.
DEFAULT_BUDGET = 3


async def cancel_job(request: Request) -> JSONResponse:
    job_id, b, owner = request.path_params["job_id"], backends(request), owner_of(request)

    def cancel() -> dict[str, Any]:
        return live_job(b, jobs.cancel(b, job_id, owner))

    return JSONResponse(await run_in_threadpool(cancel), status_code=202)


async def retry_job(request: Request) -> JSONResponse:
    job_id, b, owner = request.path_params["job_id"], backends(request), owner_of(request)
    _check_items(request)
    # A retry spends like a new job.
    await run_in_threadpool(submission_limits(request).check, owner)

    def retry() -> dict[str, Any]:
        job = _reopen(b, job_id, owner)
        enqueue(b, job)
        # The answer is the job as the retry left it (pending), as a submit's is: a worker
        # may already have claimed it, and its stream shows that next.
        return job_json(job)

    return JSONResponse(await run_in_threadpool(retry), status_code=202)


def _check_items(request: Request) -> None:
    """`?items=failed` names what every retry does (finished steps are reused from their
    checkpoints, so only failed items run); no other value is known."""
    items = request.query_params.get("items")
    if items is not None and items != "failed":
        raise InvalidQuery.of_field("items", "items must be 'failed'")


def _reopen(b: Backends, job_id: str, owner: str) -> Job:
    job_type = JOB_TYPES.get(jobs.get(b, job_id, owner).type)
    budget = job_type.max_attempts if job_type is not None else DEFAULT_BUDGET
    return jobs.reopen(b, job_id, owner, budget)


async def delete_job(request: Request) -> Response:
    job_id, b, owner = request.path_params["job_id"], backends(request), owner_of(request)
    await run_in_threadpool(jobs.delete, b, job_id, owner)
    return Response(status_code=204)


routes = [
    Route("/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/jobs/{job_id}/retry", retry_job, methods=["POST"]),
    Route("/jobs/{job_id}", delete_job, methods=["DELETE"]),
]
