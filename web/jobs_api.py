"""REST routes for jobs: submit, fetch (the polling fallback), list, job types.

Cancel, retry and delete are in web/job_actions.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actors import JOB_TYPES, SEND_ERRORS, send_job, send_jobs
from store import jobs, tags, tracing
from store.access import listing, parents
from store.access.quota import SubmissionLimits
from store.backends import Backends
from store.errors import InvalidQuery
from store.events import Snapshot
from store.models import Job
from store.status import JobStatus
from store.view import job_json
from web.auth import owner_of
from web.submit import parse_submission, read_json_body

if TYPE_CHECKING:
    from web.submit_queue import SubmitQueue

log = logging.getLogger(__name__)

MAX_PAGE = 200
DEFAULT_PAGE = 50


def backends(request: Request) -> Backends:
    b: Backends = request.app.state.backends
    return b


def submission_limits(request: Request) -> SubmissionLimits:
    limits: SubmissionLimits = request.app.state.submission_limits
    return limits


async def submit(request: Request) -> JSONResponse:
    key = request.headers.get("idempotency-key")
    submission = parse_submission(await read_json_body(request), owner_of(request), key)
    # Concurrent submits share a worker-thread trip, a transaction and an enqueue.
    queue: SubmitQueue = request.app.state.submit_queue
    data, job_id, created = await queue.submit(submission)
    headers = {"Location": f"/jobs/{job_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(data, status_code=202, headers=headers)


def enqueue(b: Backends, job: Job) -> None:
    attributes = {"jobcast.job.id": job.id, "jobcast.job.type": job.type}
    try:
        with tracing.span("jobcast.submit", attributes):  # the job's trace starts here
            send_job(b, job.id, job.priority, owner=job.owner)
    except SEND_ERRORS as error:
        # The row is the system of record: the job is accepted and stays pending until
        # a worker's reconciler finds it without a message and sends one.
        log.error("job %s accepted but not enqueued: %s", job.id, error)


def enqueue_all(b: Backends, new_jobs: Sequence[Job]) -> None:
    """Send new jobs' messages after their commit (one round trip where the broker can)."""
    if not new_jobs:
        return
    try:
        send_jobs(b, new_jobs)
    except SEND_ERRORS as error:
        log.error("%d jobs accepted but not enqueued: %s", len(new_jobs), error)


def live_job(b: Backends, job: Job) -> dict[str, Any]:
    return job_json(job, _live(b, [job.id]).get(job.id))


def _load(b: Backends, job_id: str, owner: str) -> dict[str, Any]:
    job = jobs.get(b, job_id, owner)
    data = job_json(job, _live(b, [job_id]).get(job_id))
    data["children"] = parents.children_of(b, [job_id]).get(job_id)
    return data


def _live(b: Backends, job_ids: list[str]) -> dict[str, Snapshot]:
    """Live views from Redis; without Redis the rows alone still answer (less fresh)."""
    try:
        return b.events.snapshots(job_ids)
    except RedisError as error:
        log.warning("serving rows without live views: %s", error)
        return {}


async def get_job(request: Request) -> JSONResponse:
    job_id = request.path_params["job_id"]
    data = await run_in_threadpool(_load, backends(request), job_id, owner_of(request))
    return JSONResponse(data)


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise InvalidQuery.of_field(name, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _list(b: Backends, owner: str, **filters: Any) -> dict[str, Any]:
    page, next_cursor = listing.list_page(b, owner=owner, **filters)
    job_ids = [job.id for job in page]
    live, children = _live(b, job_ids), parents.children_of(b, job_ids)
    views = [job_json(job, live.get(job.id)) | {"children": children.get(job.id)} for job in page]
    return {"jobs": views, "next": next_cursor}


async def list_jobs(request: Request) -> JSONResponse:
    status = request.query_params.get("status") or None
    if status is not None and status not in set(JobStatus):
        raise InvalidQuery.of_field("status", f"status must be one of: {', '.join(JobStatus)}")
    filters = {
        "status": status,
        "type": request.query_params.get("type") or None,
        "limit": _query_int(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE),
        "cursor": request.query_params.get("cursor") or None,
        "parent_id": request.query_params.get("parent_id") or None,
        "tag": query_tag(request),
    }
    data = await run_in_threadpool(_list, backends(request), owner_of(request), **filters)
    return JSONResponse(data)


def query_tag(request: Request) -> str | None:
    tag = request.query_params.get("tag") or None
    if tag is not None and (problem := tags.tag_problem(tag)) is not None:
        raise InvalidQuery.of_field("tag", problem)
    return tag


async def job_types(request: Request) -> JSONResponse:
    return JSONResponse([job_type.describe() for job_type in JOB_TYPES.values()])


routes = [
    Route("/jobs", submit, methods=["POST"]),
    Route("/jobs", list_jobs, methods=["GET"]),
    Route("/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/job-types", job_types, methods=["GET"]),
]
