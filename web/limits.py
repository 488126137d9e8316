"""Per-owner submission limits: a rate (token bucket) and a cap on active jobs → 429.

Checked after the body is validated, so a malformed request is told what is wrong with
it rather than to slow down, and a refused one costs no token.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from store.quota import Quotas
from web.errors import ApiError, error_response

log = logging.getLogger(__name__)

# An owner at the active cap waits for one of its jobs to end: no way to know when, so
# this is only a polite interval between attempts.
ACTIVE_RETRY_AFTER_S = 5


class RateLimited(ApiError):
    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(429, code, message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SubmissionLimits:
    quotas: Quotas
    per_minute: int
    burst: int
    max_active: int

    def check(self, owner: str, session: Session | None = None) -> None:
        """Raise RateLimited, or take one submission token (blocking: Redis, database).

        `session`, when given, is the transaction that will add the job: counting there
        costs no connection of its own.
        """
        if self.quotas.active_jobs(owner, self.max_active, session) >= self.max_active:
            raise RateLimited(
                "too_many_active_jobs",
                f"{self.max_active} jobs are already pending or running; wait for one to finish",
                ACTIVE_RETRY_AFTER_S,
            )
        try:
            wait = self.quotas.take_submission(owner, self.per_minute, self.burst)
        except RedisError as error:
            # Submissions are accepted while Redis is away (the row is the record); the
            # active-job cap above still bounds what an owner can start meanwhile.
            log.warning("submission rate not checked, Redis unavailable: %s", error)
            return
        if wait > 0:
            raise RateLimited(
                "rate_limited",
                f"more than {self.per_minute} submissions a minute; try again shortly",
                max(1, math.ceil(wait)),
            )


def submission_limits(request: Request) -> SubmissionLimits:
    limits: SubmissionLimits = request.app.state.submission_limits
    return limits


async def check_submission(request: Request, owner: str) -> None:
    await run_in_threadpool(submission_limits(request).check, owner)


async def on_rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    response = error_response(429, exc.code, exc.message)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


HANDLERS: dict[Any, Any] = {RateLimited: on_rate_limited}
