"""Per-owner quotas shared by every web process: submissions, active jobs, connections,
and spend against a budget.

- Submissions: a token bucket per owner in Redis (one Lua script, Redis's own clock, so
  web processes on different hosts agree).
- Active jobs: counted in the database, the system of record, in the transaction that
  inserts the job (store/access/submissions.py). Concurrent transactions do not see each
  other's inserts, so concurrent submissions may overshoot the cap by the number in
  flight at that moment; the cap bounds spending, it is not a hard invariant.
- Spend: the owner's usage ledger (store/ledger.py) for its budget's period, summed in
  the same transaction; a job's own cost is unknown until it runs, so this refuses only
  once the budget is reached (a running job is stopped by its worker).
- WebSocket connections: leases in a sorted set per owner, scored by expiry. Each web
  process renews the leases of its open connections; a process that dies without
  releasing them loses them when they expire.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import func
from sqlmodel import Session, col, select

from store import ledger
from store.backends import Backends
from store.budgets import Budgets, period_end, period_start
from store.errors import BudgetExhausted, RateLimited, TooManyActiveJobs
from store.models import Job, utcnow
from store.status import TERMINAL, JobStatus

log = logging.getLogger(__name__)

ACTIVE = tuple(status.value for status in JobStatus if status not in TERMINAL)
# An owner at the active cap waits for one of its jobs to end: no way to know when, so
# this is only a polite interval between attempts.
ACTIVE_RETRY_AFTER_S = 5

# KEYS: bucket. ARGV: capacity, tokens per ms. Returns 0 when a token was taken, else the
# milliseconds until one will be there.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or capacity)
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or now)
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
if tokens < 1 then
  return math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return 0
"""

# The same buckets, one token for each of many submissions (a group commit's) in one call.
# KEYS: the bucket of each submission in order (an owner's repeats). ARGV: as _TAKE.
# All or nothing: returns 0 when every submission got its token, else 1 and takes none.
_TAKE_ALL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local left = {}
for _, key in ipairs(KEYS) do
  if left[key] == nil then
    local tokens = tonumber(redis.call('HGET', key, 'tokens') or capacity)
    local at = tonumber(redis.call('HGET', key, 'at') or now)
    left[key] = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
  end
  if left[key] < 1 then
    return 1
  end
  left[key] = left[key] - 1
end
for key, tokens in pairs(left) do
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', now)
  redis.call('PEXPIRE', key, math.ceil(capacity / per_ms) + 1000)
end
return 0
"""

# KEYS: leases. ARGV: lease id, cap, lease ms. Returns 1 when the lease was granted.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS: the leases set of each lease. ARGV: lease ms, then the lease ids (same order).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
"""


class Quotas:
    def __init__(self, b: Backends) -> None:
        self.b = b
        self._take = b.redis.register_script(_TAKE)
        self._take_all = b.redis.register_script(_TAKE_ALL)
        self._acquire = b.redis.register_script(_ACQUIRE)
        self._renew = b.redis.register_script(_RENEW)

    def take_submission(self, owner: str, per_minute: int, burst: int) -> float:
        """Take one submission token: 0.0 if taken, else seconds until one is available."""
        keys = [self.b.keys.submit_bucket(owner)]
        wait_ms = int(self._take(keys=keys, args=[burst, per_minute / 60_000]))
        return wait_ms / 1000

    def take_submissions(self, owners: list[str], per_minute: int, burst: int) -> bool:
        """One token for each submission of `owners` (in order), or none: False then."""
        keys = [self.b.keys.submit_bucket(owner) for owner in owners]
        return int(self._take_all(keys=keys, args=[burst, per_minute / 60_000])) == 0

    def active_jobs(self, owner: str, up_to: int, session: Session | None = None) -> int:
        """The owner's unfinished jobs, counted up to `up_to` (the cap): no further.

        In `session` when given, else in a read-only transaction of its own.
        """
        active = (
            select(col(Job.id))
            .where(Job.owner == owner, col(Job.status).in_(ACTIVE))
            .limit(up_to)
            .subquery()
        )
        count = select(func.count()).select_from(active)
        if session is not None:
            return int(session.exec(count).one())
        with Session(self.b.reader) as own:
            return int(own.exec(count).one())

    def acquire_connection(self, owner: str, lease_id: str, cap: int, lease_s: float) -> bool:
        keys = [self.b.keys.ws_leases(owner)]
        return bool(self._acquire(keys=keys, args=[lease_id, cap, int(lease_s * 1000)]))

    def renew_connections(self, leases: list[tuple[str, str]], lease_s: float) -> None:
        """Extend the leases given as (owner, lease id) pairs."""
        if leases:
            keys = [self.b.keys.ws_leases(owner) for owner, _ in leases]
            ids = [lease_id for _, lease_id in leases]
            self._renew(keys=keys, args=[int(lease_s * 1000), *ids])

    def release_connection(self, owner: str, lease_id: str) -> None:
        self.b.redis.zrem(self.b.keys.ws_leases(owner), lease_id)

    def open_connections(self, owner: str) -> int:
        return int(self.b.redis.zcard(self.b.keys.ws_leases(owner)))


@dataclass(frozen=True)
class SubmissionLimits:
    """What each owner may submit: a rate (with a burst) and a cap on unfinished jobs."""

    quotas: Quotas
    per_minute: int
    burst: int
    max_active: int
    budgets: Budgets | None = None  # spend per period, checked against the usage ledger

    def check(
        self,
        owner: str,
        session: Session | None = None,
        jobs: int = 1,
        active: int | None = None,
        take_token: bool = True,
    ) -> None:
        """Raise RateLimited (or BudgetExhausted), or take one submission token (blocking:
        Redis, database).

        `session`, when given, is the transaction that will add the job: counting there
        costs no connection of its own. `jobs` is how many this submission adds (a batch
        adds many, and takes one token: the rate counts requests). `active`, when given,
        is the owner's unfinished jobs as the caller counted them (`count_active`) plus
        those it has taken in since: a group commit counts once per owner. Without
        `take_token` the rate is left to the caller (`take_tokens`, once for a group).
        """
        if jobs > self.max_active:
            raise TooManyActiveJobs(
                f"{jobs} jobs are more than the {self.max_active} an owner may have unfinished",
                ACTIVE_RETRY_AFTER_S,
            )
        room = self.max_active - jobs
        if active is None:
            active = self.quotas.active_jobs(owner, room + 1, session)
        if active > room:
            raise TooManyActiveJobs(
                f"{self.max_active} jobs are already pending or running; wait for one to finish"
                if jobs == 1
                else f"{jobs} more jobs would pass the cap of {self.max_active} unfinished jobs",
                ACTIVE_RETRY_AFTER_S,
            )
        if self.budgets:
            self._check_budget(owner, self.budgets, session)
        if take_token:
            self._take_token(owner)

    def _take_token(self, owner: str) -> None:
        try:
            wait = self.quotas.take_submission(owner, self.per_minute, self.burst)
        except RedisError as error:
            # Submissions are accepted while Redis is away (the row is the record); the
            # active-job cap above still bounds what an owner can start meanwhile.
            log.warning("submission rate not checked, Redis unavailable: %s", error)
            return
        if wait > 0:
            raise RateLimited(
                f"more than {self.per_minute} submissions a minute; try again shortly",
                max(1, math.ceil(wait)),
            )

    def take_tokens(self, owners: list[str]) -> bool:
        """One submission token for each of `owners` (in order), all or none: False when
        some owner's bucket cannot give all of its; then none is taken."""
        try:
            return self.quotas.take_submissions(owners, self.per_minute, self.burst)
        except RedisError as error:
            log.warning("submission rate not checked, Redis unavailable: %s", error)
            return True  # as in check(): the row is the record, the cap still bounds

    def count_active(self, owner: str, session: Session) -> int:
        """The owner's unfinished jobs, counted as far as the cap matters (one past it)."""
        return self.quotas.active_jobs(owner, self.max_active + 1, session)

    def _check_budget(self, owner: str, budgets: Budgets, session: Session | None) -> None:
        """Refuse a new job once the owner's ledger for the period has reached its budget.

        A job's cost is not known before it runs: one that starts under the budget and
        crosses it while running is stopped by its worker (actors/pipeline/meter.py).
        """
        budget = budgets.of(owner)
        if budget is None:
            return
        since = period_start(budget.period)
        if session is not None:
            spent = ledger.spent(session, owner, since)
        else:
            with Session(self.quotas.b.reader) as own:
                spent = ledger.spent(own, owner, since)
        if spent >= budget.amount:
            wait = (period_end(budget.period) - utcnow()).total_seconds()
            raise BudgetExhausted(
                f"spent ${spent:.4f} of the ${budget.amount:g} budget for this {budget.period}",
                max(1, math.ceil(wait)),
            )
