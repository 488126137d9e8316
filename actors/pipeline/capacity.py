"""A model's capacity, shared by every worker through Redis: rpm/tpm limits and 429 pauses.

    ticket = await capacity.reserve(model, messages, waiting)   # waits for room
    ... the call ...
    await ticket.settle(reply.usage)                             # the real tokens

Each model with limits (`JOBCAST_LIMITS`) keeps a sliding log of its calls in the last
window: a sorted set of call ids, and a hash of their tokens. A call reserves its prompt
(estimated) plus its `reply` allowance before it starts, and settles to the tokens the
server reported after; it is admitted only when the log, with it, stays within the
limits. A call counts from its reservation until a window after its end, which covers
the window in which the server counts it (from its arrival there), so limits a little
below the server's are never crossed. Unlike a counter library's weighted windows, a
settled call gives back what it did not use, so the reservation may be generous. (A
call running longer than the window leaves the log before it settles.)

A 429 (`ProviderBusy`) pauses the model for every worker: a key whose TTL is the
server's Retry-After. Reserving waits while it exists, and the refused call is sent again
once it is gone (the job's time limit still bounds the wait), instead of failing the
attempt. `waiting(True/False)` tells the job when a call starts and stops waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from actors.providers.base import Message, Usage, count_tokens
from store.keys import Keys
from store.model_limits import ModelLimits
from store.shared_read import SharedRead

log = logging.getLogger(__name__)

Waiting = Callable[[bool], Awaitable[None]]
# A 429 without Retry-After pauses the model this long.
DEFAULT_PAUSE_S = 1.0
# Waits are jittered up by this share, so paused workers do not all come back at once.
JITTER = 0.1
MIN_NAP_MS = 50

# KEYS: calls, tokens, pause. ARGV: window ms, rpm, tpm (0: none), call id, tokens.
# Returns 0 when the call was admitted, else the ms until it may be.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then return paused end
local window, rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost = tonumber(ARGV[5])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)) do
  redis.call('HDEL', KEYS[2], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local calls = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local count, used = #calls / 2, 0
local tokens = {}
for i = 1, #calls, 2 do
  tokens[i] = tonumber(redis.call('HGET', KEYS[2], calls[i]) or '0')
  used = used + tokens[i]
end
local wait = 0
if rpm > 0 and count + 1 > rpm then
  wait = tonumber(calls[2 * (count + 1 - rpm)]) + window - now
end
if tpm > 0 and used + cost > tpm then
  local freed, over = 0, used + cost - tpm
  for i = 1, #calls, 2 do
    freed = freed + tokens[i]
    if freed >= over then
      wait = math.max(wait, tonumber(calls[i + 1]) + window - now)
      break
    end
  end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('HSET', KEYS[2], ARGV[4], cost)
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return 0
"""

# KEYS: calls, tokens. ARGV: call id, tokens, window ms. A settled call stays in the log
# until a window after it ended: the server counted it from when the request arrived,
# which is between the reservation and the end.
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
"""

# KEYS: pause. ARGV: ms. A longer pause already set is kept.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
"""


@dataclass
class Ticket:
    """One admitted call; `settle` replaces its reservation with the tokens it used."""

    capacity: Capacity
    model: str
    call_id: str

    async def settle(self, usage: Usage) -> None:
        if self.model not in self.capacity.limits:
            return
        tokens = usage.prompt_tokens + usage.completion_tokens
        keys = self.capacity.model_keys(self.model)[:2]
        try:
            args = (self.call_id, tokens, self.capacity.window_ms)
            await self.capacity.redis.eval(_SETTLE, 2, *keys, *args)
        except RedisError as error:  # the reservation still ends with the window
            log.warning("could not settle a %s call's tokens: %s", self.model, error)


class Capacity:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        provider: str,
        limits: dict[str, ModelLimits],
        window_s: float = 60.0,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.provider = provider
        self.limits = limits  # by model name, for this provider
        self.window_ms = round(window_s * 1000)
        self._pause_reads: dict[str, SharedRead[int]] = {}

    def model_keys(self, model: str) -> tuple[str, str, str]:
        k, p = self.keys, self.provider
        return k.model_calls(p, model), k.model_tokens(p, model), k.model_pause(p, model)

    async def reserve(self, model: str, messages: list[Message], waiting: Waiting) -> Ticket:
        """Wait until the model has room for this call (shown through `waiting`), then
        hold its expected tokens."""
        call_id = uuid.uuid4().hex
        cost = self._expected_tokens(model, messages)
        waited = False
        try:
            while (wait_ms := await self._try(model, call_id, cost)) > 0:
                if not waited:
                    waited = True
                    await waiting(True)
                await asyncio.sleep(self._nap(wait_ms))
        finally:
            if waited:
                await waiting(False)
        return Ticket(self, model, call_id)

    def _nap(self, wait_ms: int) -> float:
        """Seconds to sleep before asking again: at most a twentieth of the window, since
        calls settling below their reservation free room early; jittered, so waiting
        calls do not all ask at once."""
        nap = min(wait_ms, max(self.window_ms / 20, MIN_NAP_MS)) / 1000
        return nap * (1 + random.uniform(0, JITTER))

    async def pause(self, model: str, seconds: float | None) -> None:
        """The server answered 429: no worker calls `model` for `seconds`."""
        ms = max(1, round((DEFAULT_PAUSE_S if seconds is None else seconds) * 1000))
        await self.redis.eval(_PAUSE, 1, self.model_keys(model)[2], ms)
        log.info("%s %s answered 429: paused for %s ms", self.provider, model, ms)

    async def _try(self, model: str, call_id: str, cost: int) -> int:
        limits = self.limits.get(model)
        if limits is None:  # no log to keep: only a pause holds the call back
            return await self._pause_left(model)
        rpm = _per_window(limits.rpm, self.window_ms)
        tpm = _per_window(limits.tpm, self.window_ms)
        if tpm:
            cost = min(cost, tpm)  # a call larger than the window waits for an empty one
        args = (self.window_ms, rpm, tpm, call_id, cost)
        wait: int = await self.redis.eval(_RESERVE, 3, *self.model_keys(model), *args)
        return wait

    async def _pause_left(self, model: str) -> int:
        """Milliseconds left of the model's pause (0: none).

        Calls that ask together share one PTTL (store/shared_read.py): when hundreds of
        jobs start at once, one read answers them instead of hundreds queued on the
        client's few connections (docs/PERFORMANCE.md, S6/S7 2026-12-05).
        """
        read = self._pause_reads.get(model)
        if read is None:
            key = self.model_keys(model)[2]
            read = self._pause_reads[model] = SharedRead(lambda: self.redis.pttl(key))
        return max(await read(), 0)

    def _expected_tokens(self, model: str, messages: list[Message]) -> int:
        limits = self.limits.get(model, ModelLimits())
        return sum(count_tokens(m["content"]) for m in messages) + limits.reply


def _per_window(per_minute: int | None, window_ms: int) -> int:
    """A per-minute limit spread over the window (0: no limit)."""
    if per_minute is None:
        return 0
    return max(1, int(per_minute * window_ms / 60_000))
