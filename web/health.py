"""`GET /health`: can this web process serve, and is anyone running jobs?

It checks the database, Redis and, when it carries the queue, RabbitMQ (`rabbitmq`).
"""

from __future__ import annotations

import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actors import queue_health
from store.backends import Backends
from store.metrics import WORKER_WINDOW_S


def _check(b: Backends) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    try:
        with b.reader.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        checks["database"] = f"down: {type(error).__name__}"
    try:
        b.redis.ping()
        seen = b.redis.zcount(b.keys.workers, time.time() - WORKER_WINDOW_S, "+inf")
        checks["redis"] = "ok"
        checks["workers"] = int(seen)
    except RedisError as error:
        checks["redis"] = f"down: {type(error).__name__}"
        checks["workers"] = None
    return checks | queue_health()


async def health(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(_check, request.app.state.backends)
    up = all(checks[name] == "ok" for name in ("database", "redis", "rabbitmq") if name in checks)
    healthy = up and bool(checks["workers"])
    checks["status"] = "ok" if healthy else "unavailable"
    return JSONResponse(checks, status_code=200 if healthy else 503)


routes = [Route("/health", health, methods=["GET"])]
