"""Who is calling: the owner whose jobs a request may see."""

from __future__ import annotations

from starlette.requests import HTTPConnection

ANONYMOUS = "anonymous"


def owner_of(connection: HTTPConnection) -> str:
    # Every caller is "anonymous" until API keys are enforced (JOBCAST_API_KEYS, issue #6).
    return ANONYMOUS
