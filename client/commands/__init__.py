"""The `jobcast` subcommands, one small module each.

A module's `register(subparsers)` adds its parser(s) and sets `run=<handler>` on each,
where a handler is `(args, client, out, err) -> exit status`. A new command is a new
module listed in `commands()`; the parser, options and error handling stay as they are.
"""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import TypeAlias

# argparse has no public name for the object `add_subparsers()` returns.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def commands() -> list[ModuleType]:
    from client.commands import actions, jobs, keys, submit, watch

    return [submit, watch, jobs, actions, keys]
