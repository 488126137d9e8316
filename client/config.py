"""Where the command line finds the server: `--url` / `--key`, else JOBCAST_URL / JOBCAST_KEY.

The server reads its settings once, in store/settings.py. This client is a separate
program (often on another machine), so it reads its own two variables here, and only here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE = "JOBCAST_URL"
KEY_VARIABLE = "JOBCAST_KEY"


@dataclass(frozen=True)
class Defaults:
    url: str
    key: str | None


def from_environment(environ: Mapping[str, str] | None = None) -> Defaults:
    env = os.environ if environ is None else environ
    return Defaults(url=env.get(URL_VARIABLE) or DEFAULT_URL, key=env.get(KEY_VARIABLE) or None)
