"""Usage adds up over all attempts of a job: a failed or stopped attempt's tokens were
paid for too."""

from __future__ import annotations

from typing import Any

from store.models import Job

# Dollars per call can be a millionth of a cent's worth of tokens: keep more digits.
DIGITS = {"cost": 6}


def add_usage(job: Job, usage: dict[str, Any] | None) -> None:
    """Add one attempt's usage to the job's totals (numbers add, flags OR, names stay)."""
    if usage is None:
        return
    job.usage = combined(job.usage, usage)  # reassigned, so the JSON column sees the change


def combined(total: dict[str, Any] | None, usage: dict[str, Any]) -> dict[str, Any]:
    """`total` (earlier attempts) with one more attempt's `usage` added."""
    result = dict(total or {})
    for name, value in usage.items():
        if isinstance(value, bool):
            result[name] = result.get(name, False) or value
        elif isinstance(value, int | float):
            result[name] = round(result.get(name, 0) + value, DIGITS.get(name, 3))
        else:
            result[name] = value
    return result
