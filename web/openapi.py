"""The OpenAPI 3 document of the HTTP routes (the WebSocket protocol is in docs/api.md)."""

from __future__ import annotations

from typing import Any

from web.openapi_operations import (
    TAG_QUERY,
    batch_operation,
    bulk_delete_operation,
    job_actions,
    results_path,
    usage_path,
)
from web.openapi_parts import (
    DEFS,
    IDEMPOTENCY_KEY,
    JOB,
    errors,
    job_schema,
    json_response,
    submit_body,
)


def _submit_operation() -> dict[str, Any]:
    return {
        "summary": "Submit a job",
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, **json_response(submit_body(), "the job")},
        "responses": {
            "202": {
                **json_response(
                    JOB,
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
            **errors(400, 413, 422, 503),
        },
    }


def _paths() -> dict[str, Any]:
    job = JOB
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
        TAG_QUERY,
    ]
    return {
        "/jobs": {
            "post": _submit_operation(),
            "get": {
                "summary": "List jobs, newest first",
                "parameters": query,
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "jobs": {"type": "array", "items": job},
                                "next": {"type": ["string", "null"]},
                            },
                        },
                        "a page of jobs",
                    ),
                    **errors(422, 503),
                },
            },
            "delete": bulk_delete_operation(),
        },
        "/jobs/batch": {"post": batch_operation()},
        "/jobs/{job_id}": {
            "get": {
                "summary": "The job's live view (the polling fallback of the WebSocket)",
                "parameters": [job_id],
                "responses": {"200": json_response(job, "the job"), **errors(404, 503)},
            },
            "delete": {
                "summary": "Delete a finished job with its events",
                "parameters": [job_id],
                "responses": {"204": {"description": "deleted"}, **errors(404, 409, 503)},
            },
        },
        **job_actions(),
        "/usage": usage_path(),
        "/results/{kind}": results_path(),
        "/job-types": {
            "get": {
                "summary": "Job types with the JSON Schema of their params",
                "responses": {"200": json_response({"type": "array"}, "job types")},
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
                    "200": json_response({"type": "object"}, "healthy"),
                    "503": json_response({"type": "object"}, "a dependency is down or no worker"),
                },
            }
        },
        "/debug": {
            "get": {
                "summary": "For operators: worker processes, running jobs, recent failures",
                "description": "Owners in JOBCAST_ADMIN_OWNERS only (open without keys).",
                "responses": {
                    "200": json_response(
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
                    **errors(404),
                },
            }
        },
    }


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
                responses.update({**errors(401, 503), **responses})
            if (path, method) in {
                ("/jobs", "post"),
                ("/jobs/batch", "post"),
                ("/jobs/{job_id}/retry", "post"),
            }:
                responses.update(errors(429))
            for status, (header, description) in _HEADER_DOCS.items():
                if status in responses:
                    schema = {"description": description, "schema": {"type": "string"}}
                    headers = {**responses[status].get("headers", {}), header: schema}
                    responses[status] = {**responses[status], "headers": headers}
    return paths


def openapi_document() -> dict[str, Any]:
    paths, job = _with_access_rules(_paths()), job_schema()  # both fill DEFS
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
                **DEFS,
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
