"""The OpenAPI 3 document of the HTTP routes (the WebSocket protocol is in docs/api.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from actors import JOB_TYPES
from store.tags import MAX_TAG_LENGTH, MAX_TAGS
from store.view import JobView
from web.submit import MAX_BATCH, MAX_BODY_BYTES, PARENT_ID_LENGTH, PRIORITY_RANGE

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
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
    return {str(status): _json(_ERROR, reasons[status]) for status in statuses}


def _job_schema() -> dict[str, Any]:
    """The Job of store/view.py, with the type names this process knows."""
    schema = _schema(JobView)
    schema["properties"]["type"]["enum"] = sorted(JOB_TYPES)
    return schema


_JOB = {"$ref": "#/components/schemas/Job"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-255 printable ASCII characters. The same key and owner within 24 h "
    "give the job the first request created, not a new one; the same key with a different "
    "request is a 422 `idempotency_key_reused`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def _submit_body() -> dict[str, Any]:
    """One variant per job type: its name, its own params schema and time limit."""
    low, high = PRIORITY_RANGE
    variants = []
    for name, job_type in sorted(JOB_TYPES.items()):
        params = _schema(job_type.params)
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
                    "tags": _TAGS,
                    "parent_id": {
                        "type": ["string", "null"],
                        "maxLength": PARENT_ID_LENGTH,
                        "description": "an existing job of yours; 422 `unknown_parent` else",
                    },
                },
            }
        )
    return {"oneOf": variants}


_TAGS = {
    "type": "array",
    "maxItems": MAX_TAGS,
    "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH, "pattern": r"^\S+$"},
    "description": "free-form labels, e.g. `project:42`; no whitespace",
}

_DEFS: dict[str, Any] = {}


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, its nested definitions moved to components/schemas."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    _DEFS.update(schema.pop("$defs", {}))
    return schema


def _submit_operation() -> dict[str, Any]:
    return {
        "summary": "Submit a job",
        "parameters": [_IDEMPOTENCY_KEY],
        "requestBody": {"required": True, **_json(_submit_body(), "the job")},
        "responses": {
            "202": {
                **_json(
                    _JOB,
                    "accepted (or, for a known Idempotency-Key, the job that key created)",
                ),
                "headers": {
                    "Location": {"schema": {"type": "string"}},
                    "Idempotent-Replayed": {
                        "description": "`true` when the key named an existing job",
                        "schema": {"type": "string", "enum": ["true"]},
                    },
                },
            },
            **_errors(400, 413, 422, 503),
        },
    }


def _paths() -> dict[str, Any]:
    job = _JOB
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    query = [
        {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/JobStatus"}},
        {"name": "type", "in": "query", "schema": {"type": "string"}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {"name": "parent_id", "in": "query", "schema": {"type": "string"}},
        _TAG_QUERY,
    ]
    return {
        "/jobs": {
            "post": _submit_operation(),
            "get": {
                "summary": "List jobs, newest first",
                "parameters": query,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "jobs": {"type": "array", "items": job},
                                "next": {"type": ["string", "null"]},
                            },
                        },
                        "a page of jobs",
                    ),
                    **_errors(422, 503),
                },
            },
            "delete": _bulk_delete_operation(),
        },
        "/jobs/batch": {"post": _batch_operation()},
        "/jobs/{job_id}": {
            "get": {
                "summary": "The job's live view (the polling fallback of the WebSocket)",
                "parameters": [job_id],
                "responses": {"200": _json(job, "the job"), **_errors(404, 503)},
            },
            "delete": {
                "summary": "Delete a finished job with its events",
                "parameters": [job_id],
                "responses": {"204": {"description": "deleted"}, **_errors(404, 409, 503)},
            },
        },
        **_job_actions(),
        "/usage": _usage_path(),
        "/results/{kind}": _results_path(),
        "/job-types": {
            "get": {
                "summary": "Job types with the JSON Schema of their params",
                "responses": {"200": _json({"type": "array"}, "job types")},
            }
        },
        "/": {
            "get": {
                "summary": "The browser dashboard",
                "responses": {"200": {"description": "an HTML page", "content": {"text/html": {}}}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "description": "Unfinished jobs by status, status changes, queue lengths, "
                "live workers, this process's WebSocket connections (see docs/operations.md).",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/health": {
            "get": {
                "summary": "Database, Redis and live workers",
                "responses": {
                    "200": _json({"type": "object"}, "healthy"),
                    "503": _json({"type": "object"}, "a dependency is down or no worker"),
                },
            }
        },
        "/debug": {
            "get": {
                "summary": "For operators: worker processes, running jobs, recent failures",
                "description": "Owners in JOBCAST_ADMIN_OWNERS only (open without keys).",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["workers", "jobs", "recent_failures"],
                            "properties": {
                                "workers": {"type": "array", "items": {"type": "object"}},
                                "jobs": {"type": "object"},
                                "recent_failures": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                        "the cluster now",
                    ),
                    **_errors(404),
                },
            }
        },
    }


_TAG_QUERY = {
    "name": "tag",
    "in": "query",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH},
}


def _batch_operation() -> dict[str, Any]:
    body = {
        "type": "object",
        "required": ["jobs"],
        "additionalProperties": False,
        "properties": {
            "jobs": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": _submit_body()}
        },
    }
    jobs = {"type": "object", "properties": {"jobs": {"type": "array", "items": _JOB}}}
    return {
        "summary": f"Submit up to {MAX_BATCH} jobs at once: all of them or none",
        "description": "Each job is validated as by POST /jobs; the first invalid one is named "
        "by its index (`details[].field` = `jobs[17].params.x`) and nothing is created. The "
        "batch counts as one submission of the rate and as its number of jobs against the "
        "active-job cap. An Idempotency-Key names the whole batch.",
        "parameters": [_IDEMPOTENCY_KEY],
        "requestBody": {"required": True, **_json(body, "the jobs")},
        "responses": {
            "202": {
                **_json(jobs, "accepted: the jobs in the request's order"),
                "headers": {
                    "Idempotent-Replayed": {
                        "description": "`true` when the key named an existing batch",
                        "schema": {"type": "string", "enum": ["true"]},
                    },
                },
            },
            **_errors(400, 413, 422, 503),
        },
    }


def _bulk_delete_operation() -> dict[str, Any]:
    finished = {"type": "string", "enum": ["completed", "failed", "cancelled"]}
    deleted = {"type": "object", "properties": {"deleted": {"type": "integer", "minimum": 0}}}
    return {
        "summary": "Delete your finished jobs in bulk",
        "description": "Only completed, failed and cancelled jobs go; unfinished ones stay.",
        "parameters": [{"name": "status", "in": "query", "schema": finished}, _TAG_QUERY],
        "responses": {"200": _json(deleted, "how many jobs were deleted"), **_errors(422, 503)},
    }


_RETRY_ITEMS = {
    "name": "items",
    "in": "query",
    "required": False,
    "description": "`failed`: retry the failed items only (what every retry does: finished "
    "steps are never run again); any other value is a 422",
    "schema": {"type": "string", "enum": ["failed"]},
}


def _job_actions() -> dict[str, Any]:
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
                "responses": {"202": _json(_JOB, "cancelled"), **_errors(404, 409, 503)},
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
                    "202": _json(_JOB, "pending again"),
                    **_errors(404, 409, 422, 503),
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


def _usage_path() -> dict[str, Any]:
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
            "responses": {"200": _json(body, "spend"), **_errors(422, 503)},
        }
    }


def _results_path() -> dict[str, Any]:
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
            "responses": {"200": _json(body, "saved rows"), **_errors(404, 422, 503)},
        }
    }


# Routes open without a key (see web/auth.py); every other one needs `Authorization:
# Bearer <key>` once any key exists, and may answer 401, or 503 when keys cannot be
# checked.
_PUBLIC = {"/health"}
_HEADER_DOCS = {
    "401": ("WWW-Authenticate", 'Bearer realm="jobcast"'),
    "429": ("Retry-After", "seconds to wait before trying again"),
}


def _with_access_rules(paths: dict[str, Any]) -> dict[str, Any]:
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path in _PUBLIC:
                operation["security"] = []
            else:
                responses.update({**_errors(401, 503), **responses})
            if (path, method) in {
                ("/jobs", "post"),
                ("/jobs/batch", "post"),
                ("/jobs/{job_id}/retry", "post"),
            }:
                responses.update(_errors(429))
            for status, (header, description) in _HEADER_DOCS.items():
                if status in responses:
                    schema = {"description": description, "schema": {"type": "string"}}
                    headers = {**responses[status].get("headers", {}), header: schema}
                    responses[status] = {**responses[status], "headers": headers}
    return paths


def openapi_document() -> dict[str, Any]:
    paths, job = _with_access_rules(_paths()), _job_schema()  # both fill _DEFS
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jobcast",
            "version": "0.1.0",
            "description": "Long LLM generation jobs with live progress. Events stream over "
            "the WebSocket GET /jobs/{job_id}/events (see docs/api.md#events).",
        },
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API key (JOBCAST_API_KEYS or `jobcast keys create`)",
                }
            },
            "schemas": {
                **_DEFS,
                "Job": job,
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "array", "items": {"type": "object"}},
                            },
                        }
                    },
                },
            },
        },
    }
