"""Usage adds up over all attempts of a job: a failed or stopped attempt's tokens were
paid for too."""

from __future__ import annotations

from typing import Any

from store.models import Job


def add_usage(job: Job, usage: dict[str, Any] | None) -> None:
    """Add one attempt's usage to the job's totals (numbers add, flags OR, names stay)."""
    if usage is None:
        return
    total = dict(job.usage or {})
    for name, value in usage.items():
        if isinstance(value, bool):
            total[name] = total.get(name, False) or value
        elif isinstance(value, int | float):
            total[name] = round(total.get(name, 0) + value, 3)
        else:
            total[name] = value
    job.usage = total  # reassigned, so the JSON column sees the change
