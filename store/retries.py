"""Why an attempt failed, and when the next one may start.

The delay after attempt n is `base * 2^(n-1)` seconds capped at `cap`, jittered to a
random point in its upper half (so jobs that failed together do not retry together),
and never shorter than the `Retry-After` the model server asked for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

# A server's Retry-After is honoured up to an hour; anything longer is not a hint.
MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True)
class Failure:
    """How an attempt ended when it did not complete."""

    code: str
    message: str
    # Could a new attempt succeed? (A 429 or a lost worker: yes. A 400 or bad params: no.)
    transient: bool = False
    retry_after: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Backoff:
    base: float = 2.0
    cap: float = 300.0

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after attempt `attempt` (1, 2, …) failed."""
        ceiling = min(self.cap, self.base * 2 ** min(attempt - 1, 30))
        jittered = (rng or random).uniform(ceiling / 2, ceiling)
        hint = min(max(retry_after or 0.0, 0.0), MAX_RETRY_AFTER_S)
        return max(jittered, hint)


def gave_up(attempts: int, failure: Failure) -> Failure:
    """The final failure of a job whose every attempt failed transiently."""
    message = f"gave up after {attempts} attempts; the last one failed: {failure.message}"
    return Failure(failure.code, message)
