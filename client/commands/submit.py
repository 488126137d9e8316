"""`jobcast submit TYPE key=value … [--watch]`."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from client.api import Client
from client.commands import Subparsers
from client.watch import watch


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="submit a job",
        description="Submit a job. Params are key=value (a string, or JSON where the "
        "type's schema wants a number, boolean, list or object) or key:=JSON.",
        epilog="example: jobcast submit chat prompt='Describe a lighthouse' --watch",
    )
    parser.add_argument("type", help="the job type (see GET /job-types)")
    parser.add_argument("params", nargs="*", metavar="key=value", help="the job's params")
    parser.add_argument("--priority", type=int, help="-10 … 10, higher runs first")
    parser.add_argument("--time-limit", type=int, metavar="SECONDS")
    parser.add_argument("--watch", "-w", action="store_true", help="follow the job until it ends")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, client: Client, out: TextIO, err: TextIO) -> int:
    schema = _schema(client, args.type)
    params = parse_params(args.params, schema)
    job = client.submit(args.type, params, priority=args.priority, time_limit=args.time_limit)
    if not args.watch:
        out.write(job["id"] + "\n")
        return 0
    err.write(f"submitted {job['type']} job {job['id']}\n")
    err.flush()
    return watch(client, job["id"], out, err)


def _schema(client: Client, type_name: str) -> dict[str, Any]:
    for job_type in client.job_types():
        if job_type["type"] == type_name:
            schema: dict[str, Any] = job_type.get("params_schema") or {}
            return schema
    return {}  # unknown type: the server's 422 lists the known ones


def parse_params(pairs: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    """`key=value` pairs; a value becomes JSON where the schema wants other than a string."""
    params: dict[str, Any] = {}
    properties = schema.get("properties") or {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{pair!r}: params are key=value")
        if key.endswith(":"):
            params[key[:-1]] = _json(key[:-1], value)
        elif _wants_string(properties.get(key, {})):
            params[key] = value
        else:
            params[key] = _json(key, value)
    return params


def _wants_string(prop: dict[str, Any]) -> bool:
    """True unless the property accepts only non-string JSON (pydantic's anyOf included)."""
    options = prop.get("anyOf") or prop.get("oneOf") or [prop]
    types = {option.get("type") for option in options} - {"null"}
    return not types or "string" in types or None in types


def _json(key: str, value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(f"{key}: {value!r} is not valid JSON") from None
