"""`jobcast keys create OWNER | revoke KEY_ID | list [OWNER]`: API keys in the database.

An operator's command, run on a host with the server's settings (DATABASE_URL,
REDIS_URL); `--url` and `--key` play no part. The one command that uses the server's
own code (client/keys_admin.py), loaded only when it runs.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from client.api import Client
from client.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    from client.keys_admin import add_commands

    parser = subparsers.add_parser(
        "keys",
        help="create, revoke or list the API keys stored in the database (operators)",
        description="Manage the API keys stored in the database at DATABASE_URL.",
    )
    add_commands(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, client: Client, out: TextIO, err: TextIO) -> int:
    from client.keys_admin import run as run_keys

    return run_keys(args, out, err)
