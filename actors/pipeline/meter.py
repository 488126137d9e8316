"""The meter of one attempt: each model call's cost goes to the ledger, and a call that
takes its owner's spend to the budget is stopped between two deltas of its reply.

While calls stream, the meter adds what they have cost so far to the owner's live spend
in Redis (store/spend.py) every SYNC_S seconds, so the spend of every job of the owner,
on any worker, counts. Between syncs each delta is checked against the last total plus
this job's own cost since: a job crosses the budget within SYNC_S of its owner's spend
doing so, plus one delta (one token from most servers; the simulated model's deltas
carry the tokens of one 75 ms tick).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from actors.pipeline.errors import BudgetExceeded
from actors.providers.base import Usage
from store import ledger
from store.backends import Backends
from store.budgets import Budget, period_start
from store.models import LedgerEntry
from store.prices import Prices
from store.spend import LiveSpend

SYNC_S = 0.25


@dataclass(frozen=True)
class Account:
    """Whom a job's calls are charged to."""

    owner: str
    job_id: str
    job_type: str
    provider: str


@dataclass(frozen=True)
class Limit:
    """The owner's budget and the shared counter it is checked against."""

    budget: Budget
    live: LiveSpend


class Meter:
    def __init__(
        self,
        b: Backends,
        account: Account,
        prices: Prices,
        limit: Limit | None = None,
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        self.b = b
        self.account = account
        self.prices = prices
        self.limit = limit
        self.on_settled = on_settled  # shows the job's usage, cost included, live
        self._streaming: dict[int, float] = {}  # cost so far of each call in flight
        self._settled = 0.0  # cost of this attempt's finished calls
        self._synced = 0.0  # how much of it the live spend has been told
        self._known = 0.0  # the owner's live spend at the last sync
        self._synced_at = -SYNC_S
        self._seed: float | None = None

    async def tick(self, model: str, usage: Usage) -> None:
        """After each delta of a call: raise BudgetExceeded once the budget is reached."""
        if self.limit is None:
            return
        self._streaming[id(usage)] = self.prices.cost(
            model, usage.prompt_tokens, usage.completion_tokens
        )
        if time.monotonic() - self._synced_at >= SYNC_S:
            await self._sync(self.limit)
        spent = self._known + self._cost() - self._synced
        if spent >= self.limit.budget.amount:
            budget = self.limit.budget
            raise BudgetExceeded(
                f"the owner's spend reached its budget of ${budget.amount:g} a {budget.period}"
                f" (${spent:.4f})"
            )

    async def settle(self, stage: str, model: str, usage: Usage, cost: float) -> None:
        """A call ended (finished, failed or stopped): ledger it, count it, show it."""
        self._streaming.pop(id(usage), None)
        self._settled += cost
        entry = LedgerEntry(
            owner=self.account.owner,
            job_id=self.account.job_id,
            type=self.account.job_type,
            provider=self.account.provider,
            model=model,
            stage=stage,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=cost,
        )
        await asyncio.to_thread(ledger.record, self.b, entry)
        if self.limit is not None:
            await self._sync(self.limit)
        if self.on_settled is not None:
            self.on_settled()

    def _cost(self) -> float:
        return self._settled + sum(self._streaming.values())

    async def _sync(self, limit: Limit) -> None:
        self._synced_at = time.monotonic()
        if self._seed is None:
            self._seed = await asyncio.to_thread(self._ledger_spent, limit.budget)
        cost = self._cost()
        delta, self._synced = cost - self._synced, cost  # before the await: tasks share it
        self._known = await limit.live.add(
            self.account.owner, limit.budget.period, self._seed, delta
        )

    def _ledger_spent(self, budget: Budget) -> float:
        with Session(self.b.reader) as session:
            return ledger.spent(session, self.account.owner, period_start(budget.period))
