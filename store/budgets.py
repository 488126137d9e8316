"""Per-owner spending budgets per period, from `JOBCAST_BUDGETS`.

    JOBCAST_BUDGETS="alice=10/day,bob=200/month,*=1/day"

Each entry is `owner=amount/period` in US dollars, the period `day` or `month` (UTC
calendar periods, starting at midnight and on the 1st); `*` is every owner not named.
An owner with no entry (and no `*`) has no budget. Without API keys every job's owner
is `anonymous`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

Period = Literal["day", "month"]
PERIODS: tuple[Period, ...] = ("day", "month")
ANY_OWNER = "*"
_ENTRY = re.compile(r"\s*([A-Za-z0-9._@*-]+)\s*=\s*([0-9.]+)\s*/\s*(day|month)\s*")


@dataclass(frozen=True)
class Budget:
    amount: float  # US dollars
    period: Period


@dataclass(frozen=True)
class Budgets:
    table: dict[str, Budget]

    def of(self, owner: str) -> Budget | None:
        return self.table.get(owner) or self.table.get(ANY_OWNER)

    def __bool__(self) -> bool:
        return bool(self.table)


def parse_budgets(raw: str) -> Budgets:
    """The budgets of `owner=amount/day|month,…`; ValueError naming the first bad entry."""
    table: dict[str, Budget] = {}
    for entry in (part for part in raw.split(",") if part.strip()):
        match = _ENTRY.fullmatch(entry)
        try:
            if match is None:
                raise ValueError
            table[match[1]] = Budget(float(match[2]), cast(Period, match[3]))
        except ValueError:
            raise ValueError(f"{entry.strip()!r} must be owner=amount/day or /month") from None
    return Budgets(table)


def period_start(period: Period, now: datetime | None = None) -> datetime:
    """When the current `period` began (UTC)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "day" else day.replace(day=1)


def period_end(period: Period, now: datetime | None = None) -> datetime:
    """When the next `period` begins (UTC)."""
    start = period_start(period, now)
    if period == "day":
        return start + timedelta(days=1)
    return (start + timedelta(days=32)).replace(day=1)
