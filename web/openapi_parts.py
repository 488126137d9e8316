"""Pieces the OpenAPI document repeats: error answers, the Job schema, the submit body,
schemas taken from pydantic models (their shared definitions gathered in DEFS)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from actors import JOB_TYPES
from store.tags import MAX_TAG_LENGTH, MAX_TAGS
from store.view import JobView
from web.submit import MAX_BODY_BYTES, PARENT_ID_LENGTH, PRIORITY_RANGE

ERROR = {"$ref": "#/components/schemas/Error"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "malformed JSON",
        404: "unknown job id",
        409: "the job is in a state that does not allow this",
        413: f"body over {MAX_BODY_BYTES // 1024} KiB",
        401: "missing or invalid API key",
        422: "unknown type, or params / query failing validation",
        429: "too many submissions or active jobs for this key, or its budget for the "
        "period is spent (`budget_exhausted`); see Retry-After",
        503: "database or Redis unavailable",
    }
    return {str(status): json_response(ERROR, reasons[status]) for status in statuses}


def job_schema() -> dict[str, Any]:
    """The Job of store/view.py, with the type names this process knows."""
    schema = schema_of(JobView)
    schema["properties"]["type"]["enum"] = sorted(JOB_TYPES)
    return schema


JOB = {"$ref": "#/components/schemas/Job"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-255 printable ASCII characters. The same key and owner within 24 h "
    "give the job the first request created, not a new one; the same key with a different "
    "request is a 422 `idempotency_key_reused`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def submit_body() -> dict[str, Any]:
    """One variant per job type: its name, its own params schema and time limit."""
    low, high = PRIORITY_RANGE
    variants = []
    for name, job_type in sorted(JOB_TYPES.items()):
        params = schema_of(job_type.params)
        variants.append(
            {
                "type": "object",
                "required": ["type", "params"] if params.get("required") else ["type"],
                "additionalProperties": False,
                "properties": {
                    "type": {"type": "string", "const": name},
                    "params": params,
                    "priority": {"type": "integer", "minimum": low, "maximum": high},
                    "time_limit": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": job_type.time_limit,
                        "description": "seconds",
                    },
                    "tags": TAGS,
                    "parent_id": {
                        "type": ["string", "null"],
                        "maxLength": PARENT_ID_LENGTH,
                        "description": "an existing job of yours; 422 `unknown_parent` else",
                    },
                },
            }
        )
    return {"oneOf": variants}


TAGS = {
    "type": "array",
    "maxItems": MAX_TAGS,
    "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH, "pattern": r"^\S+$"},
    "description": "free-form labels, e.g. `project:42`; no whitespace",
}

DEFS: dict[str, Any] = {}


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, its nested definitions moved to components/schemas."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    DEFS.update(schema.pop("$defs", {}))
    return schema
