"""Reading and validating a `POST /jobs` request into the values the store accepts.

The body and its `Idempotency-Key` header become one store Submission
(store/access/submissions.py); the store does the rest.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from actors import JOB_TYPES, JobType
from store import tags
from store.access.submissions import Submission
from store.errors import (
    InvalidParams,
    InvalidRequest,
    MalformedJson,
    TooLarge,
    UnknownType,
)
from web.nul import contains_nul

MAX_BODY_BYTES = 256 * 1024
PRIORITY_RANGE = (-10, 10)
_ALLOWED_FIELDS = {"type", "params", "priority", "time_limit", "tags", "parent_id"}
MAX_KEY_LENGTH = 255
PARENT_ID_LENGTH = 32
MAX_BATCH = 1000
# A batch of MAX_BATCH jobs with modest params fits; one job's body keeps MAX_BODY_BYTES.
MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024


async def read_json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON; 413 past `limit` bytes (checked while reading), 400 if malformed."""
    too_large = TooLarge(f"request body is over {limit // 1024} KiB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedJson(f"request body is not valid JSON: {error}") from None
    except RecursionError:
        raise MalformedJson("request body is nested too deeply") from None
    if contains_nul(data):
        raise InvalidRequest("strings may not contain NUL (\\u0000)")
    return data


def _int_field(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest.of_field(name, f"{name} must be an integer from {low} to {high}")
    return value


def parse_submission(body: Any, owner: str, idempotency_key: str | None) -> Submission:
    """The submission of `owner`; the body's mistakes are reported before the key's."""
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    unknown = sorted(set(body) - _ALLOWED_FIELDS)
    if unknown:
        raise InvalidRequest.of_field(unknown[0], f"unknown field {unknown[0]!r}")
    job_type = _job_type(body.get("type"))
    params = _params(job_type, body.get("params", {}))
    priority = _int_field(body, "priority", *PRIORITY_RANGE) or 0
    time_limit = _int_field(body, "time_limit", 1, job_type.time_limit)
    return Submission(
        owner=owner,
        type=job_type.name,
        params=params,
        priority=priority,
        time_limit=time_limit,
        max_attempts=job_type.max_attempts,
        idempotency_key=_checked_key(idempotency_key),
        tags=_tags(body.get("tags", [])),
        parent_id=_parent_id(body.get("parent_id")),
    )


def parse_batch(body: Any, owner: str, idempotency_key: str | None) -> list[Submission]:
    """The submissions of a `POST /jobs/batch` body `{"jobs": [...]}`, in order; the first
    invalid one is named by its index (`jobs[17].params.x`)."""
    if not isinstance(body, dict) or set(body) != {"jobs"}:
        raise InvalidRequest("request body must be a JSON object with one field, jobs")
    items = body["jobs"]
    if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
        raise InvalidRequest.of_field("jobs", f"jobs must be a list of 1 to {MAX_BATCH} jobs")
    _checked_key(idempotency_key)
    return [_batch_item(index, item, owner) for index, item in enumerate(items)]


def _batch_item(index: int, item: Any, owner: str) -> Submission:
    try:
        return parse_submission(item, owner, None)
    except InvalidRequest as error:
        where = f"jobs[{index}]"
        details = [
            {**detail, "field": f"{where}.{detail['field']}"} for detail in error.details or []
        ] or [{"field": where, "message": error.message}]
        raise type(error)(f"{where}: {error.message}", details) from None


def _tags(value: Any) -> tuple[str, ...]:
    problem = tags.problem(value)
    if problem is not None:
        raise InvalidRequest.of_field("tags", problem)
    return tuple(dict.fromkeys(value))


def _parent_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and 0 < len(value) <= PARENT_ID_LENGTH):
        return value
    message = f"parent_id must be a job id (a string of at most {PARENT_ID_LENGTH} characters)"
    raise InvalidRequest.of_field("parent_id", message)


def _job_type(name: Any) -> JobType:
    job_type = JOB_TYPES.get(name) if isinstance(name, str) else None
    if job_type is None:
        known = ", ".join(sorted(JOB_TYPES))
        raise UnknownType(
            f"unknown job type {name!r}; known types: {known}",
            [{"field": "type", "message": f"must be one of: {known}"}],
        )
    return job_type


def _params(job_type: JobType, params: Any) -> dict[str, Any]:
    """The params as the job type's schema reads them (defaults left out)."""
    if not isinstance(params, dict):
        raise InvalidRequest.of_field("params", "params must be a JSON object")
    try:
        validated = job_type.params.model_validate(params)
    except ValidationError as error:
        details = [
            {
                "field": ".".join(["params", *(str(part) for part in item["loc"])]),
                "message": item["msg"],
            }
            for item in error.errors()
        ]
        names = ", ".join(detail["field"] for detail in details)
        raise InvalidParams(f"invalid params: {names}", details) from None
    return validated.model_dump(mode="json", exclude_none=True)


def _checked_key(key: str | None) -> str | None:
    """The `Idempotency-Key` header: the same key and owner name the same job for 24 h."""
    if key is None or (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()):
        return key
    message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
    raise InvalidRequest.of_field("Idempotency-Key", message)
