"""An owner's live spend in the current budget period: a counter in Redis that every
worker adds to while its calls stream, so a job learns within a moment that another job
of the same owner used the budget up.

The first worker to touch a period's counter seeds it from the ledger (the counter may
be new, or Redis may have lost it); after that the counter runs ahead of the ledger by
the cost of calls still streaming.
"""

from __future__ import annotations

from redis.asyncio import Redis

from store.budgets import Period, period_end, period_start
from store.keys import Keys

# KEYS: counter. ARGV: seed (the ledger's sum), amount to add, expiry (s). Returns the total.
_ADD = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3])
return redis.call('INCRBYFLOAT', KEYS[1], ARGV[2])
"""


class LiveSpend:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._add = redis.register_script(_ADD)
        self.keys = keys

    async def add(self, owner: str, period: Period, seed: float, cost: float) -> float:
        """Add `cost` to the owner's spend in the current `period`; returns the total.

        `seed` is the ledger's sum for the period, used if the counter does not exist yet.
        """
        start, end = period_start(period), period_end(period)
        key = self.keys.spend(owner, f"{period}:{start:%Y%m%d}")
        expiry = int((end - start).total_seconds()) + 86400  # outlives the period a little
        total = await self._add(keys=[key], args=[f"{seed:.12f}", f"{cost:.12f}", expiry])
        return float(total)
