"""`jobcast watch ID`."""

from __future__ import annotations

import argparse
from typing import TextIO

from client.api import Client
from client.commands import Subparsers
from client.watch import watch


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="follow a job live until it ends",
        description="Show a job's progress and streamed output until it ends. Exits 0 when "
        "it completed, 1 when it failed or was cancelled.",
    )
    parser.add_argument("id", help="the job's id")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, client: Client, out: TextIO, err: TextIO) -> int:
    return watch(client, args.id, out, err)
