"""`python -m client.keys_admin create OWNER | revoke KEY_ID | list [OWNER]` (also `jobcast keys`).

Manages the API keys stored in the database at DATABASE_URL (see store/access/apikeys.py). It is
an operator's command: it runs where the server's settings are, not against a URL.
`add_commands()` adds the commands under another parser; it imports nothing heavy, so
the `jobcast` client stays light until `keys` is actually used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from store.backends import Backends


def add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="create a key for OWNER (shown once)")
    create.add_argument("owner")
    revoke = commands.add_parser("revoke", help="revoke a key: it stops working at once")
    revoke.add_argument("key_id")
    listing = commands.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("owner", nargs="?")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from redis.exceptions import RedisError

    from store.backends import connect
    from store.preflight import check_or_exit
    from store.settings import settings_or_exit

    settings = settings_or_exit()
    check_or_exit(settings)
    b = connect(settings, name="jobcast-keys")
    try:
        return _COMMANDS[args.keys_command](b, args, out, err)
    except RedisError as error:
        err.write(
            f"jobcast: the change is saved, but Redis is unreachable ({error}): running web "
            "processes were not told and may take up to 30 s to notice it\n"
        )
        return 1
    finally:
        b.redis.close()
        b.engine.dispose()


def _create(b: Backends, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from store.access import apikeys

    try:
        row, key = apikeys.create(b, args.owner)
    except ValueError as error:
        err.write(f"jobcast: {error}\n")
        return 2
    out.write(f"created key {row.id} for owner {row.owner}\nkey: {key}\n")
    out.write("This is the only time the key is shown: store it now.\n")
    return 0


def _revoke(b: Backends, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from store.access import apikeys

    row = apikeys.revoke(b, args.key_id)
    if row is None:
        err.write(f"jobcast: no key {args.key_id}\n")
        return 1
    out.write(f"revoked key {row.id} of owner {row.owner}\n")
    return 0


def _list(b: Backends, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from store.access import apikeys

    out.write(f"{'id':<16}  {'owner':<20}  {'key':<12}  {'created':<20}  revoked\n")
    for row in apikeys.list_keys(b, args.owner):
        created = row.created_at.strftime("%Y-%m-%d %H:%M:%S")
        revoked = row.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if row.revoked_at else "-"
        hint = row.hint + "…"
        out.write(f"{row.id:<16}  {row.owner:<20}  {hint:<12}  {created:<20}  {revoked}\n")
    return 0


_COMMANDS = {"create": _create, "revoke": _revoke, "list": _list}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m client.keys_admin", description=__doc__)
    add_commands(parser)
    return run(parser.parse_args(argv), sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
