"""`jobcast cancel ID` and `jobcast retry ID [--watch]`."""

from __future__ import annotations

import argparse
from typing import TextIO

from client.api import Client
from client.commands import Subparsers
from client.watch import watch


def register(subparsers: Subparsers) -> None:
    cancel = subparsers.add_parser(
        "cancel", help="cancel a pending or running job", description="Cancel a job."
    )
    cancel.add_argument("id", help="the job's id")
    cancel.set_defaults(run=run_cancel)
    retry = subparsers.add_parser(
        "retry",
        help="run a failed or cancelled job again",
        description="Start a new attempt of a failed or cancelled job.",
    )
    retry.add_argument("id", help="the job's id")
    retry.add_argument("--watch", "-w", action="store_true", help="follow the new attempt")
    retry.set_defaults(run=run_retry)


def run_cancel(args: argparse.Namespace, client: Client, out: TextIO, err: TextIO) -> int:
    job = client.cancel(args.id)
    out.write(f"{job['id']} {job['status']}\n")
    return 0


def run_retry(args: argparse.Namespace, client: Client, out: TextIO, err: TextIO) -> int:
    job = client.retry(args.id)
    if args.watch:
        return watch(client, job["id"], out, err)
    out.write(f"{job['id']} {job['status']}\n")
    return 0
