"""REST routes that act on one job: cancel, retry, delete.

Each is scoped to the caller's jobs (someone else's job is a 404) and answers 409 when
the job's state does not allow the action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actors import JOB_TYPES
from store import jobs
from store.backends import Backends
from store.models import Job
from store.status import IllegalTransition
from web.auth import owner_of
from web.errors import ApiError
from web.jobs_api import backends, enqueue, live_job
from web.limits import check_submission

T = TypeVar("T")
# Attempts a retried job gets when its type is no longer registered on this web process.
DEFAULT_BUDGET = 3


def _act(job_id: str, action: Callable[[], T]) -> T:
    """Run `action`, answering as the contract says when it cannot be done."""
    try:
        return action()
    except jobs.JobNotFound:
        raise ApiError(404, "not_found", f"no job {job_id}") from None
    except IllegalTransition as wrong:
        verb = "retried" if wrong.wanted == "pending" else wrong.wanted
        message = f"job {job_id} is {wrong.current}; it cannot be {verb}"
        raise ApiError(409, "conflict", message) from None
    except jobs.NotFinished as wrong:
        raise ApiError(409, "conflict", str(wrong)) from None


async def cancel_job(request: Request) -> JSONResponse:
    job_id, b, owner = request.path_params["job_id"], backends(request), owner_of(request)

    def cancel() -> dict[str, Any]:
        return live_job(b, _act(job_id, lambda: jobs.cancel(b, job_id, owner)))

    return JSONResponse(await run_in_threadpool(cancel), status_code=202)


async def retry_job(request: Request) -> JSONResponse:
    job_id, b, owner = request.path_params["job_id"], backends(request), owner_of(request)
    await check_submission(request, owner)  # a retry spends like a new job

    def retry() -> dict[str, Any]:
        job = _act(job_id, lambda: _reopen(b, job_id, owner))
        enqueue(b, job)
        return live_job(b, job)

    return JSONResponse(await run_in_threadpool(retry), status_code=202)


def _reopen(b: Backends, job_id: str, owner: str) -> Job:
    job_type = JOB_TYPES.get(jobs.get(b, job_id, owner).type)
    budget = job_type.max_attempts if job_type is not None else DEFAULT_BUDGET
    return jobs.reopen(b, job_id, owner, budget)


async def delete_job(request: Request) -> Response:
    job_id, b, owner = request.path_params["job_id"], backends(request), owner_of(request)
    await run_in_threadpool(_act, job_id, lambda: jobs.delete(b, job_id, owner))
    return Response(status_code=204)


routes = [
    Route("/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
    Route("/jobs/{job_id}/retry", retry_job, methods=["POST"]),
    Route("/jobs/{job_id}", delete_job, methods=["DELETE"]),
]
