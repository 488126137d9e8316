"""S1's same-work baseline: `POST /jobs` doing only what a submit must, the plain way.

A Starlette route that reads the JSON body, checks it the way a `chat` submit is checked
(simply: a `chat` type, a prompt of 1 to 100,000 characters, an optional priority), INSERTs
the row into jobcast's `job` table with one SQLAlchemy Core statement in its own
transaction and sends the `run_job` message through jobcast's broker (the same middleware,
so the same wake-up PUBLISH). Nothing else: no owners, keys, quotas, events or logs.
Served by the same uvicorn command line as jobcast's web process.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, insert
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actors import run_job
from store.db import make_engine
from store.models import Job, new_job_id, utcnow
from store.settings import get_settings

_JOB: Table = Job.__table__  # type: ignore[attr-defined, unused-ignore]
engine = make_engine(get_settings().database_url)


def _invalid(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "invalid_request", "message": message}}, 422)


def _problem(body: Any) -> str | None:
    """What is wrong with a chat submit's body, or None."""
    if not isinstance(body, dict) or body.get("type") != "chat":
        return "a JSON object with type 'chat' is required"
    params = body.get("params")
    if not isinstance(params, dict) or set(params) - {"prompt"}:
        return "params must be an object with only a prompt"
    prompt = params.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 100_000:
        return "params.prompt must be a string of 1 to 100000 characters"
    priority = body.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -10 <= priority <= 10:
        return "priority must be an integer from -10 to 10"
    return None


def _accept(row: dict[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(_JOB), [row])
    run_job.send(row["id"])


async def submit(request: Request) -> JSONResponse:
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return JSONResponse({"error": {"code": "malformed_json", "message": "not JSON"}}, 400)
    if (problem := _problem(body)) is not None:
        return _invalid(problem)
    now = utcnow()
    row = {
        "id": new_job_id(),
        "owner": "anonymous",
        "type": "chat",
        "status": "pending",
        "message": "Queued",
        "params": body["params"],
        "priority": body.get("priority", 0),
        **{"progress": 0, "attempts": 0, "max_attempts": 3, "seq": 0},
        "created_at": now,
        "updated_at": now,
    }
    await run_in_threadpool(_accept, row)
    view = {"id": row["id"], "type": "chat", "status": "pending", "progress": 0, "seq": 0}
    return JSONResponse(view, status_code=202, headers={"Location": f"/jobs/{row['id']}"})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/jobs", submit, methods=["POST"]), Route("/", health)])
