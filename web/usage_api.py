"""`GET /usage?period=day|month`: the caller's spend in the current period, by job type
and model, read from the usage ledger (store/ledger.py), with its budget if it has one."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from store import ledger
from store.access.quota import SubmissionLimits
from store.backends import Backends
from store.budgets import PERIODS, Budget, Period, period_end, period_start
from store.errors import InvalidQuery
from store.times import iso
from web.auth import owner_of


def _period(request: Request, budget: Budget | None) -> Period:
    """The asked period; by default the budget's own, else `day`."""
    raw = request.query_params.get("period")
    if raw is None:
        return budget.period if budget is not None else "day"
    if raw not in PERIODS:
        raise InvalidQuery.of_field("period", f"period must be one of: {', '.join(PERIODS)}")
    return raw


def _budget_json(b: Backends, owner: str, budget: Budget | None) -> dict[str, Any] | None:
    """The budget with what has been spent against it in its own period."""
    if budget is None:
        return None
    spent = ledger.summary(b, owner, period_start(budget.period))["cost"]
    remaining = round(max(0.0, budget.amount - spent), 6)
    return {
        "amount": budget.amount,
        "period": budget.period,
        "spent": spent,
        "remaining": remaining,
    }


async def usage(request: Request) -> JSONResponse:
    b: Backends = request.app.state.backends
    limits: SubmissionLimits = request.app.state.submission_limits
    owner = owner_of(request)
    budget = limits.budgets.of(owner) if limits.budgets else None
    period = _period(request, budget)
    since, until = period_start(period), period_end(period)

    def read() -> dict[str, Any]:
        return {
            "owner": owner,
            "period": period,
            "since": iso(since),
            "until": iso(until),
            **ledger.summary(b, owner, since),
            "budget": _budget_json(b, owner, budget),
        }

    return JSONResponse(await run_in_threadpool(read))


routes = [Route("/usage", usage, methods=["GET"])]
