"""The OpenAPI operations of the routes beyond a single submit: batches, bulk delete, a
job's actions, usage and results."""

from __future__ import annotations

from typing import Any

from store.tags import MAX_TAG_LENGTH
from web.openapi_parts import (
    IDEMPOTENCY_KEY,
    JOB,
    errors,
    json_response,
    submit_body,
)
from web.submit import MAX_BATCH

TAG_QUERY = {
    "name": "tag",
    "in": "query",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH},
}


def batch_operation() -> dict[str, Any]:
    body = {
        "type": "object",
        "required": ["jobs"],
        "additionalProperties": False,
        "properties": {
            "jobs": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": submit_body()}
        },
    }
    jobs = {"type": "object", "properties": {"jobs": {"type": "array", "items": JOB}}}
    return {
        "summary": f"Submit up to {MAX_BATCH} jobs at once: all of them or none",
        "description": "Each job is validated as by POST /jobs; the first invalid one is named "
        "by its index (`details[].field` = `jobs[17].params.x`) and nothing is created. The "
        "batch counts as one submission of the rate and as its number of jobs against the "
        "active-job cap. An Idempotency-Key names the whole batch.",
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, **json_response(body, "the jobs")},
        "responses": {
            "202": {
                **json_response(jobs, "accepted: the jobs in the request's order"),
                "headers": {
                    "Idempotent-Replayed": {
                        "description": "`true` when the key named an existing batch",
                        "schema": {"type": "string", "enum": ["true"]},
                    },
                },
            },
            **errors(400, 413, 422, 503),
        },
    }


def bulk_delete_operation() -> dict[str, Any]:
    finished = {"type": "string", "enum": ["completed", "failed", "cancelled"]}
    deleted = {"type": "object", "properties": {"deleted": {"type": "integer", "minimum": 0}}}
    return {
        "summary": "Delete your finished jobs in bulk",
        "description": "Only completed, failed and cancelled jobs go; unfinished ones stay.",
        "parameters": [{"name": "status", "in": "query", "schema": finished}, TAG_QUERY],
        "responses": {
            "200": json_response(deleted, "how many jobs were deleted"),
            **errors(422, 503),
        },
    }


_RETRY_ITEMS = {
    "name": "items",
    "in": "query",
    "required": False,
    "description": "`failed`: retry the failed items only (what every retry does: finished "
    "steps are never run again); any other value is a 422",
    "schema": {"type": "string", "enum": ["failed"]},
}


def job_actions() -> dict[str, Any]:
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/jobs/{job_id}/cancel": {
            "post": {
                "summary": "Cancel a job that has not finished",
                "description": "A pending or retrying job never starts again; a running one "
                "stops within 2 s on whichever host runs it, its model request is closed and "
                "its output so far is kept. The job ends `cancelled` with error code "
                "`cancelled`.",
                "parameters": [job_id],
                "responses": {"202": json_response(JOB, "cancelled"), **errors(404, 409, 503)},
            }
        },
        "/jobs/{job_id}/retry": {
            "post": {
                "summary": "Run a failed or cancelled job again, or a completed job's failed items",
                "description": "The job becomes `pending` again (a `status` event says so) "
                "and gets the type's maximum of attempts more. A completed job whose "
                "`result.failed_items` is not empty may be retried too: the new attempt runs "
                "only those items and merges them into the result (steps that finished are "
                "reused from their checkpoints, see `usage.reused_calls`); any other "
                "completed job answers 409.",
                "parameters": [job_id, _RETRY_ITEMS],
                "responses": {
                    "202": json_response(JOB, "pending again"),
                    **errors(404, 409, 422, 503),
                },
            }
        },
    }


_SUMS = {
    "llm_calls": {"type": "integer"},
    "prompt_tokens": {"type": "integer"},
    "completion_tokens": {"type": "integer"},
    "cost": {"type": "number", "description": "US dollars (JOBCAST_PRICES)"},
}


def usage_path() -> dict[str, Any]:
    period = {"type": "string", "enum": ["day", "month"]}
    budget = {
        "type": ["object", "null"],
        "description": "the caller's budget (JOBCAST_BUDGETS) and its spend in its own period",
        "properties": {
            "amount": {"type": "number"},
            "period": period,
            "spent": {"type": "number"},
            "remaining": {"type": "number"},
        },
    }
    group = {"type": "object", "properties": {"type": {}, "model": {}, **_SUMS}}
    body = {
        "type": "object",
        "properties": {
            "owner": {"type": "string"},
            "period": period,
            "since": {"type": "string", "format": "date-time"},
            "until": {"type": "string", "format": "date-time"},
            **_SUMS,
            "by_type_and_model": {"type": "array", "items": group},
            "budget": budget,
        },
    }
    description = (
        "Calls ended in the current UTC day or month, from the usage ledger (one row per "
        "model call, kept when jobs are deleted). Without `period`: the budget's period, else day."
    )
    return {
        "get": {
            "summary": "The caller's model spend in the current period, by job type and model",
            "description": description,
            "parameters": [{"name": "period", "in": "query", "schema": period}],
            "responses": {"200": json_response(body, "spend"), **errors(422, 503)},
        }
    }


def results_path() -> dict[str, Any]:
    kind = {"type": "string", "enum": ["personas", "backlog", "canvas"]}
    job_id = {"type": "string", "minLength": 1, "maxLength": 32}
    body = {
        "type": "object",
        "properties": {"job_id": {"type": "string"}, "kind": kind, "items": {"type": "array"}},
    }
    return {
        "get": {
            "summary": "The rows a job saved (docs/results.md), also after it was deleted",
            "description": "Only the caller's own: another owner's job reads as no items.",
            "parameters": [
                {"name": "kind", "in": "path", "required": True, "schema": kind},
                {"name": "job_id", "in": "query", "required": True, "schema": job_id},
            ],
            "responses": {"200": json_response(body, "saved rows"), **errors(404, 422, 503)},
        }
    }


# Routes open without a key (see web/auth.py); every other one needs `Authorization:
# Bearer <key>` once any key exists, and may answer 401, or 503 when keys cannot be
