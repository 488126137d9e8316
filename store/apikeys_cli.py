"""`python -m store.apikeys_cli create OWNER | revoke KEY_ID | list [OWNER]`.

Manages the API keys stored in the database at DATABASE_URL (see store/apikeys.py).
`register()` adds the same commands under another parser (`jobcast keys …`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from redis.exceptions import RedisError

from store import apikeys
from store.backends import Backends, connect
from store.preflight import check_or_exit
from store.settings import settings_or_exit


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="create a key for OWNER (shown once)")
    create.add_argument("owner")
    revoke = commands.add_parser("revoke", help="revoke a key: it stops working at once")
    revoke.add_argument("key_id")
    listing = commands.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("owner", nargs="?")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    check_or_exit(settings)
    b = connect(settings, name="jobcast-keys")
    try:
        return _COMMANDS[args.keys_command](b, args)
    except RedisError as error:
        print(
            f"jobcast: the change is saved, but Redis is unreachable ({error}): running web "
            "processes were not told and may take up to 30 s to notice it",
            file=sys.stderr,
        )
        return 1
    finally:
        b.redis.close()
        b.engine.dispose()


def _create(b: Backends, args: argparse.Namespace) -> int:
    try:
        row, key = apikeys.create(b, args.owner)
    except ValueError as error:
        print(f"jobcast: {error}", file=sys.stderr)
        return 2
    print(f"created key {row.id} for owner {row.owner}")
    print(f"key: {key}")
    print("This is the only time the key is shown: store it now.")
    return 0


def _revoke(b: Backends, args: argparse.Namespace) -> int:
    row = apikeys.revoke(b, args.key_id)
    if row is None:
        print(f"jobcast: no key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked key {row.id} of owner {row.owner}")
    return 0


def _list(b: Backends, args: argparse.Namespace) -> int:
    rows = apikeys.list_keys(b, args.owner)
    print(f"{'id':<16}  {'owner':<20}  {'key':<12}  {'created':<20}  revoked")
    for row in rows:
        created = row.created_at.strftime("%Y-%m-%d %H:%M:%S")
        revoked = row.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if row.revoked_at else "-"
        print(f"{row.id:<16}  {row.owner:<20}  {row.hint + '…':<12}  {created:<20}  {revoked}")
    return 0


_COMMANDS = {"create": _create, "revoke": _revoke, "list": _list}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store.apikeys_cli", description=__doc__)
    register(parser)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
