"""`GET /results/{personas|backlog|canvas}?job_id=`: the rows a job saved (store/results.py),
which outlive the job; only the caller's own (another owner's job reads as none)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store import results
from store.backends import Backends
from store.errors import InvalidQuery
from web.auth import owner_of


def _reader(kind: str) -> Route:
    async def read(request: Request) -> JSONResponse:
        b: Backends = request.app.state.backends
        job_id = request.query_params.get("job_id", "")
        if not 0 < len(job_id) <= 32:
            raise InvalidQuery.of_field("job_id", "job_id (the id of the job) is required")
        rows = await run_in_threadpool(results.saved, b, kind, job_id, owner_of(request))
        return JSONResponse({"job_id": job_id, "kind": kind, "items": rows})

    return Route(f"/results/{kind}", read, methods=["GET"])


routes = [_reader(kind) for kind in results.KINDS]
