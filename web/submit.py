"""Reading and validating a `POST /jobs` body into what `jobs.create` takes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from actors import JOB_TYPES
from web.errors import ApiError
from web.nul import contains_nul

MAX_BODY_BYTES = 256 * 1024
PRIORITY_RANGE = (-10, 10)
_ALLOWED_FIELDS = {"type", "params", "priority", "time_limit"}


@dataclass(frozen=True)
class Submission:
    type: str
    params: dict[str, Any]
    priority: int
    time_limit: int | None


async def read_json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    """The request's JSON; 413 past `limit` bytes (checked while reading), 400 if malformed."""
    too_large = ApiError(413, "too_large", f"request body is over {limit // 1024} KiB")
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
        raise ApiError(400, "malformed_json", f"request body is not valid JSON: {error}") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "request body is nested too deeply") from None
    if contains_nul(data):
        raise ApiError(422, "invalid_request", "strings may not contain NUL (\\u0000)")
    return data


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_request", message, [{"field": field, "message": message}])


def _int_field(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(name, f"{name} must be an integer from {low} to {high}")
    return value


def parse_submission(body: Any) -> Submission:
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_request", "request body must be a JSON object")
    unknown = sorted(set(body) - _ALLOWED_FIELDS)
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    type_name = body.get("type")
    job_type = JOB_TYPES.get(type_name) if isinstance(type_name, str) else None
    if job_type is None:
        known = ", ".join(sorted(JOB_TYPES))
        raise ApiError(
            422,
            "unknown_type",
            f"unknown job type {type_name!r}; known types: {known}",
            [{"field": "type", "message": f"must be one of: {known}"}],
        )
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise _invalid("params", "params must be a JSON object")
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
        raise ApiError(422, "invalid_params", f"invalid params: {names}", details) from None
    priority = _int_field(body, "priority", *PRIORITY_RANGE) or 0
    time_limit = _int_field(body, "time_limit", 1, job_type.time_limit)
    return Submission(
        type=job_type.name,
        params=validated.model_dump(mode="json", exclude_none=True),
        priority=priority,
        time_limit=time_limit,
    )
