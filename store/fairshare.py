"""Fair share of the worker threads across owners: per-owner pending sets and a pick step.

Start-time fair queueing by job count (docs/fairness.md). Every waiting job is in its
owner's pending set (ordered by priority, then submission); a worker with a free thread
asks `pick()` for the next job, and one Lua step chooses the owner whose next job has
the smallest start tag, `max(owner's finish tag, virtual time)`, skipping owners at their
`max_running` cap. Picking advances the owner's finish tag by `1 / weight` and the
virtual time to the chosen start tag, so an owner who just arrived starts level with the
others instead of behind everything a busy owner already queued.

A picked job holds a running slot: a member of its owner's running set scored by when
it expires. The worker's process lease renews its slots (`renew`); a killed worker's
slots expire a lease later, so no slot is leaked. Everything is in Redis, shared by
every worker process and host. The scripts name per-owner keys from a prefix they are
given, so they need one Redis server, not a cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # store/backends.py imports the settings, which import this module
    from store.backends import Backends

# Order within an owner: priority first (higher earlier), then submission order.
PRIORITY_STRIDE = 2**40

# KEYS: owners, order. ARGV: prefix, owner, job id, priority.
_ADD = """
local n = redis.call('INCR', KEYS[2])
local score = -tonumber(ARGV[4]) * 1099511627776 + n
redis.call('ZADD', ARGV[1] .. 'pending:' .. ARGV[2], 'NX', score, ARGV[3])
redis.call('SADD', KEYS[1], ARGV[2])
return 1
"""

# KEYS: owners, tags, vtime. ARGV: prefix, lease ms, weights JSON, caps JSON.
# Returns {job, owner}, {} when nothing waits, {'capped'} when every waiting owner is full.
_PICK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local weights, caps = cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
local vtime = tonumber(redis.call('GET', KEYS[3]) or '0')
local best, best_tag, capped = nil, nil, false
for _, owner in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local pending = ARGV[1] .. 'pending:' .. owner
  if redis.call('ZCARD', pending) == 0 then
    redis.call('SREM', KEYS[1], owner)
  else
    local cap = caps[owner] or caps['*']
    local running = ARGV[1] .. 'running:' .. owner
    redis.call('ZREMRANGEBYSCORE', running, '-inf', now)
    if cap and redis.call('ZCARD', running) >= cap then
      capped = true
    else
      local tag = math.max(tonumber(redis.call('HGET', KEYS[2], owner) or '0'), vtime)
      if best == nil or tag < best_tag or (tag == best_tag and owner < best) then
        best, best_tag = owner, tag
      end
    end
  end
end
if best == nil then
  if capped then return {'capped'} end
  return {}
end
local pending = ARGV[1] .. 'pending:' .. best
local job = redis.call('ZPOPMIN', pending)[1]
if redis.call('ZCARD', pending) == 0 then redis.call('SREM', KEYS[1], best) end
local weight = weights[best] or weights['*'] or 1
redis.call('HSET', KEYS[2], best, tostring(best_tag + 1 / weight))
redis.call('SET', KEYS[3], tostring(best_tag))
redis.call('ZADD', ARGV[1] .. 'running:' .. best, now + tonumber(ARGV[2]), job)
return {job, best}
"""

# ARGV: prefix, lease ms, then owner, job pairs. Renews the slots that still exist.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 3, #ARGV, 2 do
  redis.call('ZADD', ARGV[1] .. 'running:' .. ARGV[i], 'XX', now + tonumber(ARGV[2]), ARGV[i + 1])
end
return 1
"""


@dataclass(frozen=True)
class FairPolicy:
    """Per-owner weights and running caps; the owner `*` gives the default."""

    weights: dict[str, float] = field(default_factory=dict)
    caps: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Picked:
    job_id: str
    owner: str


CAPPED = "capped"


def parse_owner_values(raw: str, kind: type[int] | type[float]) -> dict[str, float]:
    """`alice=2,bob=1,*=1` → {owner: value}; each value must be a positive number."""
    values: dict[str, float] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        owner, sep, value = (text.strip() for text in entry.partition("="))
        if not sep or not owner:
            raise ValueError(f"{entry!r} is not owner=value")
        try:
            number = kind(value)
        except ValueError:
            noun = "whole number" if kind is int else "number"
            raise ValueError(f"{entry!r}: {value!r} is not a {noun}") from None
        if number <= 0:
            raise ValueError(f"{entry!r}: the value must be above 0")
        if owner in values:
            raise ValueError(f"owner {owner!r} is given twice")
        values[owner] = number
    return values


def add(b: Backends, owner: str, job_id: str, priority: int) -> None:
    """Put a job that may run now into its owner's pending set (a no-op if it is there)."""
    k = b.keys
    b.redis.eval(_ADD, 2, k.fair_owners, k.fair_order, k.fair_prefix, owner, job_id, priority)


def pick(b: Backends, policy: FairPolicy, lease_s: float) -> Picked | str | None:
    """The next job to run and its slot; CAPPED if all waiting owners are full; None if none."""
    k = b.keys
    keys = (k.fair_owners, k.fair_tags, k.fair_vtime)
    args = (k.fair_prefix, int(lease_s * 1000), json.dumps(policy.weights), json.dumps(policy.caps))
    reply = b.redis.eval(_PICK, 3, *keys, *args)
    if not reply:
        return None
    if len(reply) == 1:
        return CAPPED
    return Picked(reply[0].decode(), reply[1].decode())


def release(b: Backends, owner: str, job_id: str) -> None:
    """Give back a job's running slot."""
    b.redis.zrem(b.keys.fair_running(owner), job_id)


def renew(b: Backends, slots: dict[str, str], lease_s: float) -> None:
    """Extend the slots (job id → owner) this process still holds by a lease."""
    if not slots:
        return
    pairs = [part for job_id, owner in slots.items() for part in (owner, job_id)]
    b.redis.eval(_RENEW, 0, b.keys.fair_prefix, int(lease_s * 1000), *pairs)
