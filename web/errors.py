"""The one error shape of the API, and the one table of handlers that produce it.

Routes and the store raise the errors of store/errors.py; each carries its status, code
and headers, so one handler renders them all. Starlette's own HTTP errors (unknown
route, wrong method) and dependencies that are down get the same shape. Anything else
that escapes a route is a bug: logged, answered 500 in the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from store.errors import ApiError, Details, Unavailable

log = logging.getLogger(__name__)


def error_response(
    status: int, code: str, message: str, details: Details | None = None
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


def render(error: ApiError) -> JSONResponse:
    """The response for `error`; middleware that cannot raise into the handlers use it too."""
    response = error_response(error.http_status, error.code, error.message, error.details)
    response.headers.update(error.headers())
    return response


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return render(exc)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_dependency_down(request: Request, exc: Exception) -> Response:
    which = "redis" if isinstance(exc, RedisError) else "database"
    log.warning("%s unavailable during %s %s: %s", which, request.method, request.url.path, exc)
    return render(Unavailable(f"the {which} is unavailable; try again shortly"))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal server error")


# Starlette picks the entry of the nearest class in the exception's MRO.
HANDLERS: dict[Any, Any] = {
    ApiError: on_api_error,
    HTTPException: on_http_exception,
    RedisError: on_dependency_down,
    # The database refused, dropped or timed out the connection, or no pooled one freed up.
    OperationalError: on_dependency_down,
    InterfaceError: on_dependency_down,
    DisconnectionError: on_dependency_down,
    PoolTimeout: on_dependency_down,
    Exception: on_unexpected,
}
