"""Every error jobcast raises on purpose, in one tree.

JobcastError                       HTTP  code (the contract's error shape)
 ├── ConfigError                    –    a setting is missing or wrong: one line at start-up
 ├── StaleAttempt                   –    a worker reported for an attempt that is over
 ├── NotLost                        –    the job's worker is alive after all
 ├── JobError                     –    an attempt failed (actors/pipeline/errors.py)
 └── ApiError                            what a client is told
      ├── BadRequest                400  bad_request
      │    ├── MalformedJson        400  malformed_json
      │    └── CorsRefused          400  cors_refused
      ├── Unauthorized              401  unauthorized (+ WWW-Authenticate)
      ├── ForbiddenOrigin           403  forbidden_origin
      ├── JobNotFound               404  not_found
      ├── Conflict                  409  conflict
      │    ├── IllegalTransition    409  conflict
      │    └── NotFinished          409  conflict
      ├── TooLarge                  413  too_large
      ├── InvalidRequest            422  invalid_request
      │    ├── UnknownType          422  unknown_type
      │    ├── InvalidParams        422  invalid_params
      │    ├── UnknownParent        422  unknown_parent
      │    ├── InvalidQuery         422  invalid_query
      │    │    └── BadCursor       422  invalid_query
      │    └── KeyReused            422  idempotency_key_reused
      ├── RateLimited               429  rate_limited (+ Retry-After)
      │    ├── TooManyActiveJobs    429  too_many_active_jobs
      │    └── BudgetExhausted      429  budget_exhausted (Retry-After: the period's end)
      └── Unavailable               503  unavailable

web/errors.py renders an ApiError as `{"error": {"code", "message", "details"?}}` with its
status and headers; anything else that escapes a route is a 500 (or a 503 for the
INFRASTRUCTURE_ERRORS below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from store.status import JobStatus

# A dependency (Redis, the database) failed: worth retrying, never the caller's fault.
INFRASTRUCTURE_ERRORS = (RedisError, SQLAlchemyError)

Details = list[dict[str, Any]]


class JobcastError(Exception):
    """The root of every error jobcast raises on purpose."""


class ConfigError(JobcastError):
    """A configuration mistake, reported as one line at start-up."""


class StaleAttempt(JobcastError):
    """A worker reported for an attempt that is no longer the job's current one."""


class NotLost(JobcastError):
    """The job is not a running job with a stale lease (its worker is alive, or it moved on)."""


class ApiError(JobcastError):
    """An error a client is told about, with its HTTP status and the contract's code."""

    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, message: str, details: Details | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError):
    """The request cannot be read at all."""

    http_status, code = 400, "bad_request"


class MalformedJson(BadRequest):
    """The body is not JSON."""

    code = "malformed_json"


class CorsRefused(BadRequest):
    """A CORS preflight from an origin, method or header that is not allowed."""

    code = "cors_refused"


class Unauthorized(ApiError):
    """No API key, or one that is not valid."""

    http_status, code = 401, "unauthorized"

    def __init__(self, message: str, key_given: bool) -> None:
        super().__init__(message)
        self.key_given = key_given

    def headers(self) -> dict[str, str]:
        challenge = 'Bearer realm="jobcast"'
        if self.key_given:
            challenge += ', error="invalid_token"'
        return {"WWW-Authenticate": challenge}


class ForbiddenOrigin(ApiError):
    """A WebSocket from a page whose Origin is not allowed."""

    http_status, code = 403, "forbidden_origin"


class JobNotFound(ApiError):
    """No job with this id (for this owner)."""

    http_status, code = 404, "not_found"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id}")
        self.job_id = job_id


class Conflict(ApiError):
    """The job's state does not allow what was asked."""

    http_status, code = 409, "conflict"


# How a refused move reads to whoever asked for it ("it cannot be retried").
_VERBS = {"pending": "retried", "running": "started", "retrying": "retried"}


class IllegalTransition(Conflict):
    """A status change the transition table does not allow."""

    def __init__(self, job_id: str, current: JobStatus, wanted: JobStatus) -> None:
        verb = _VERBS.get(wanted, wanted)
        super().__init__(f"job {job_id} is {current}; it cannot be {verb}")
        self.current = current
        self.wanted = wanted


class NotFinished(Conflict):
    """Only a finished job can be deleted."""

    def __init__(self, job_id: str, current: JobStatus) -> None:
        super().__init__(f"job {job_id} is {current}; only finished jobs can be deleted")
        self.current = current


class TooLarge(ApiError):
    """The body is over the size limit."""

    http_status, code = 413, "too_large"


class InvalidRequest(ApiError):
    """The request is well-formed but asks for something invalid."""

    http_status, code = 422, "invalid_request"

    @classmethod
    def of_field(cls, field: str, message: str) -> InvalidRequest:
        """The error for one field, named in `details` too."""
        return cls(message, [{"field": field, "message": message}])


class UnknownType(InvalidRequest):
    """No job type of that name."""

    code = "unknown_type"


class InvalidParams(InvalidRequest):
    """The params fail the job type's schema."""

    code = "invalid_params"


class UnknownParent(InvalidRequest):
    """`parent_id` names no job of the same owner."""

    code = "unknown_parent"


class InvalidQuery(InvalidRequest):
    """A query parameter is not valid."""

    code = "invalid_query"


class BadCursor(InvalidQuery):
    """A listing cursor that this server did not issue."""

    def __init__(self) -> None:
        message = "cursor is not one this server issued"
        super().__init__(message, [{"field": "cursor", "message": message}])


class KeyReused(InvalidRequest):
    """The Idempotency-Key was first used with a different request."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request")
        self.key = key


class RateLimited(ApiError):
    """More submissions a minute than the owner's rate allows."""

    http_status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyActiveJobs(RateLimited):
    """The owner already has as many unfinished jobs as allowed."""

    code = "too_many_active_jobs"


class BudgetExhausted(RateLimited):
    """The owner has spent its budget for the period."""

    code = "budget_exhausted"


class Unavailable(ApiError):
    """A dependency is down: try again shortly."""

    http_status, code = 503, "unavailable"
