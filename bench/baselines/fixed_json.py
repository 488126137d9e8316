"""S1's baseline: a Starlette endpoint that answers `POST /jobs` with fixed JSON.

Served by the same uvicorn command line as jobcast's web process; it reads no body,
touches no database and enqueues nothing.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

FIXED = {"id": "0" * 32, "type": "chat", "status": "pending", "progress": 0, "seq": 0}


async def submit(request: Request) -> JSONResponse:
    return JSONResponse(FIXED, status_code=202, headers={"Location": f"/jobs/{FIXED['id']}"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/jobs", submit, methods=["POST"]), Route("/", health)])
