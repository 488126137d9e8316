"""`jobcast`: submit, watch and manage jobs from a terminal.

    jobcast [--url URL] [--key KEY] COMMAND …

`--url` defaults to $JOBCAST_URL, else http://127.0.0.1:8000; `--key` to $JOBCAST_KEY.
Exit status: 0 on success, 1 when the job failed or was cancelled or the server said no,
2 for a usage mistake, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from client import config
from client.api import Client
from client.commands import commands
from client.errors import ApiError


def build_parser(defaults: config.Defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobcast", description="Submit and watch jobcast jobs (workers: `dramatiq actors`)."
    )
    _connection_options(parser, defaults)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in commands():
        module.register(subparsers)
    # The options work after the command too: `jobcast watch ID --url …`.
    for sub in subparsers.choices.values():
        _connection_options(sub, None)
    return parser


def _connection_options(parser: argparse.ArgumentParser, defaults: config.Defaults | None) -> None:
    # Subcommands' copies default to SUPPRESS so they never hide a value given earlier.
    url_default = defaults.url if defaults else argparse.SUPPRESS
    key_default = defaults.key if defaults else argparse.SUPPRESS
    group = parser.add_argument_group("server")
    group.add_argument(
        "--url",
        default=url_default,
        help=f"the jobcast server (default: ${config.URL_VARIABLE}, else {config.DEFAULT_URL})",
    )
    group.add_argument(
        "--key", default=key_default, help=f"API key (default: ${config.KEY_VARIABLE})"
    )


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser(config.from_environment()).parse_args(argv)
    client = Client(args.url, key=args.key)
    try:
        code: int = args.run(args, client, out, err)
    except ApiError as error:
        err.write(f"jobcast: {error}\n")
        return 1
    except ValueError as error:
        err.write(f"jobcast: {error}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
