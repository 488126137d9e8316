"""REST routes for many jobs at once: submit a batch, delete finished jobs in bulk."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store.access import bulk, submissions
from store.errors import InvalidQuery
from store.status import TERMINAL, JobStatus
from store.view import job_json
from web.auth import owner_of
from web.jobs_api import backends, enqueue_all, live_job, query_tag, submission_limits
from web.submit import MAX_BATCH_BODY_BYTES, parse_batch, read_json_body


async def submit_batch(request: Request) -> JSONResponse:
    """All the jobs or none: one 202 with them in the request's order, or one error."""
    key = request.headers.get("idempotency-key")
    body = await read_json_body(request, MAX_BATCH_BODY_BYTES)
    owner = owner_of(request)
    batch = parse_batch(body, owner, key)
    b, limits = backends(request), submission_limits(request)

    def accept() -> tuple[list[dict[str, Any]], bool]:
        created_jobs, created = submissions.submit_batch(b, owner, batch, key, limits)
        if not created:
            return [live_job(b, job) for job in created_jobs], False
        enqueue_all(b, created_jobs)  # after the commit, as for one job
        return [job_json(job) for job in created_jobs], True

    views, created = await run_in_threadpool(accept)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return JSONResponse({"jobs": views}, status_code=202, headers=headers)


async def delete_finished(request: Request) -> JSONResponse:
    """Delete the caller's finished jobs, all or those of `status` and/or `tag`."""
    raw = request.query_params.get("status") or None
    finished = [status.value for status in TERMINAL]
    if raw is not None and raw not in finished:
        message = f"status must be one of: {', '.join(finished)} (only finished jobs go)"
        raise InvalidQuery.of_field("status", message)
    status = JobStatus(raw) if raw is not None else None
    args = (backends(request), owner_of(request), status, query_tag(request))
    deleted = await run_in_threadpool(bulk.delete_finished, *args)
    return JSONResponse({"deleted": deleted})


routes = [
    Route("/jobs/batch", submit_batch, methods=["POST"]),
    Route("/jobs", delete_finished, methods=["DELETE"]),
]
