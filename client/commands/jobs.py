"""`jobcast jobs`: the newest jobs as a table."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any, TextIO

from client.api import Client
from client.commands import Subparsers

STATUSES = ["pending", "running", "retrying", "completed", "failed", "cancelled"]


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("jobs", help="list jobs, newest first")
    parser.add_argument("--status", choices=STATUSES)
    parser.add_argument("--type")
    parser.add_argument("--limit", type=int, default=20, help="at most this many (1-200)")
    parser.add_argument("--json", action="store_true", help="print the jobs as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, client: Client, out: TextIO, err: TextIO) -> int:
    jobs = client.list(status=args.status, type=args.type, limit=args.limit)
    if args.json:
        out.write(json.dumps(jobs, indent=2) + "\n")
    elif not jobs:
        err.write("no jobs\n")
    else:
        out.write(table(jobs, datetime.now(UTC)))
    return 0


def table(jobs: list[dict[str, Any]], now: datetime) -> str:
    rows = [["ID", "TYPE", "STATUS", "PROGRESS", "CREATED", "MESSAGE"]]
    # Every column but the last is padded to its widest cell.
    for job in jobs:
        where = " · ".join(part for part in (job.get("stage"), job.get("message")) if part)
        created = _ago(job.get("created_at"), now)
        rows.append([job["id"], job["type"], job["status"], f"{job['progress']} %", created, where])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join([*map(str.ljust, row, widths), row[-1]]).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return "-"
    seconds = int((now - datetime.fromisoformat(iso)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{max(seconds, 0)} s ago"
