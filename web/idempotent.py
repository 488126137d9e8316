"""The `Idempotency-Key` header of `POST /jobs`: the same key and owner, the same job.

A client that did not hear the answer to a submit (a timeout, a dropped connection)
sends it again with the same key and gets the job the first request created, for 24 h
(store/idempotency.py). The same key with a different request is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlmodel import Session
from starlette.requests import Request

from store import idempotency
from store.backends import Backends
from store.models import Job
from web.errors import ApiError
from web.submit import Submission

MAX_KEY_LENGTH = 255


def key_of(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not (0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()):
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        detail = [{"field": "Idempotency-Key", "message": message}]
        raise ApiError(422, "invalid_request", message, detail)
    return key


def create_once(
    b: Backends,
    owner: str,
    key: str,
    submission: Submission,
    create: Callable[[Session], Job],
) -> tuple[Job, bool]:
    """The job of this key (created now if the key is new), and whether it was created."""
    fingerprint = idempotency.fingerprint(dataclasses.asdict(submission))
    try:
        return idempotency.create_once(b, owner, key, fingerprint, create)
    except idempotency.KeyReused:
        message = f"Idempotency-Key {key!r} was already used with a different request"
        raise ApiError(422, "idempotency_key_reused", message) from None
