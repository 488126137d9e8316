"""The event channel: sequenced job events in Redis, published as they happen.

One Lua script does everything an event needs, atomically: it assigns the job's next
`seq`, appends the event to the job's bounded replay log, updates the job's live view
and PUBLISHes the event. Readers get the live view and the replay log from here too.
Workers publish the same way from their event loop (store/async_events.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from redis import Redis
from redis.exceptions import NoScriptError

from store.keys import Keys
from store.status import TERMINAL
from store.times import now_iso

EventKind = Literal["status", "progress", "output"]

# KEYS: seq, log, view, output, channel, status counters (see Keys.status_changes)
# ARGV: floor, attempt, kind, body, log size, ttl, delta, output stage, status, reopen,
#       then view field/value pairs.
# Returns the event's seq, or 0 when the event was refused: the job is terminal (unless
# re-opened) or, for progress/output, the event comes from an attempt that is not the
# current one (a late or duplicate worker).
# Its first line is written from store/status.py: the statuses that end a job.
_TERMINAL_LUA = ", ".join(f"['{status}'] = true" for status in sorted(TERMINAL))
PUBLISH_SCRIPT = (
    f"local terminal = {{{_TERMINAL_LUA}}}"
    + """
local state = redis.call('HGET', KEYS[3], '_status')
if state and terminal[state] and ARGV[10] ~= '1' then
  return 0
end
if ARGV[3] ~= 'status' then
  local current = redis.call('HGET', KEYS[3], '_attempt')
  if current and current ~= ARGV[2] then return 0 end
end
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
if seq < tonumber(ARGV[1]) then seq = tonumber(ARGV[1]) end
seq = seq + 1
redis.call('SET', KEYS[1], seq)
local event = '{"seq": ' .. seq .. ', ' .. string.sub(ARGV[4], 2)
redis.call('RPUSH', KEYS[2], event)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
redis.call('HSET', KEYS[3], 'seq', seq)
for i = 11, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
if ARGV[3] == 'status' then
  redis.call('HINCRBY', KEYS[6], ARGV[9], 1)
  redis.call('HSET', KEYS[3], '_status', ARGV[9], '_attempt', ARGV[2])
  if ARGV[9] == 'running' or ARGV[9] == 'pending' then
    redis.call('DEL', KEYS[4])
    redis.call('HDEL', KEYS[3], '_ostage')
  end
elseif ARGV[3] == 'output' then
  if redis.call('HGET', KEYS[3], '_ostage') == ARGV[8] then
    redis.call('APPEND', KEYS[4], ARGV[7])
  else
    redis.call('SET', KEYS[4], ARGV[7])
    redis.call('HSET', KEYS[3], '_ostage', ARGV[8])
  end
end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[6]) end
redis.call('PUBLISH', KEYS[5], event)
return seq
"""
)

DEFAULT_LOG_SIZE = 2000


@dataclass(frozen=True)
class Event:
    """One event as stored and sent: its JSON text, and what readers need to route it."""

    seq: int
    kind: str
    terminal: bool
    raw: str
    ts: str = ""  # when the event was made (ISO 8601), for the delivery-lag histogram

    @classmethod
    def parse(cls, raw: str | bytes) -> Event:
        text = raw.decode() if isinstance(raw, bytes) else raw
        data = json.loads(text)
        terminal = data["type"] == "status" and data.get("status") in TERMINAL
        ts = data.get("ts", "")
        return cls(int(data["seq"]), data["type"], terminal, text, ts)


@dataclass
class Snapshot:
    """The job's live fields as of event `seq` (empty when Redis knows nothing of it)."""

    seq: int
    fields: dict[str, Any]
    output: str | None


class Publish(NamedTuple):
    """One event for `EventChannel.publish_many`: the arguments `publish` takes."""

    job_id: str
    kind: EventKind
    payload: dict[str, Any]
    attempt: int
    floor: int = 0
    view: dict[str, Any] | None = None
    reopen: bool = False


class Publishing:
    """What the blocking channel and the worker's asyncio one (store/async_events.py)
    share: an event as the KEYS and ARGV of one `PUBLISH_SCRIPT` call."""

    def __init__(self, keys: Keys, ttl: int, log_size: int) -> None:
        self.keys = keys
        self.ttl = ttl
        self.log_size = log_size

    def _call(self, event: Publish) -> tuple[list[str], list[str | int]]:
        """The KEYS and ARGV of `event`'s script call."""
        return self._keys(event.job_id), self._args(*event)

    def _keys(self, job_id: str) -> list[str]:
        return [*self.keys.job_keys(job_id), self.keys.channel(job_id), self.keys.status_changes]

    def _args(
        self,
        job_id: str,
        kind: EventKind,
        payload: dict[str, Any],
        attempt: int,
        floor: int,
        view: dict[str, Any] | None,
        reopen: bool,
    ) -> list[str | int]:
        body = json.dumps({"job_id": job_id, "type": kind, "ts": now_iso(), **payload})
        pairs: list[str] = []
        for name, value in (view or {}).items():
            pairs += [name, json.dumps(value)]
        return [
            floor,
            attempt,
            kind,
            body,
            self.log_size,
            self.ttl,
            payload.get("delta", ""),
            payload.get("stage") or "",
            payload.get("status", ""),
            "1" if reopen else "0",
            *pairs,
        ]


class EventChannel(Publishing):
    def __init__(
        self, redis: Redis, keys: Keys, ttl: int, log_size: int = DEFAULT_LOG_SIZE
    ) -> None:
        super().__init__(keys, ttl, log_size)
        self.redis = redis
        self._script = redis.register_script(PUBLISH_SCRIPT)

    def publish(
        self,
        job_id: str,
        kind: EventKind,
        payload: dict[str, Any],
        *,
        attempt: int,
        floor: int = 0,
        view: dict[str, Any] | None = None,
        reopen: bool = False,
    ) -> int:
        """Append one event; returns its seq, or 0 if the channel refused it.

        `floor` is the last seq the caller knows of (from the database), so numbering
        continues upwards even if Redis lost the counter.
        """
        keys, args = self._call(Publish(job_id, kind, payload, attempt, floor, view, reopen))
        return int(self._script(keys=keys, args=args))

    def publish_many(self, events: list[Publish]) -> list[int]:
        """`publish` each of `events` in one pipeline (one round trip); their seqs in order.
        Each script call stays atomic on its own, so the guarantees are `publish`'s."""
        calls = [self._call(event) for event in events]
        replies = self._evalsha(calls)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:  # Redis restarted, or its scripts were flushed: those did not run
            self.redis.script_load(PUBLISH_SCRIPT)
            for i, reply in zip(missing, self._evalsha([calls[i] for i in missing]), strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return [int(seq) for seq in replies]

    def _evalsha(self, calls: list[tuple[list[str], list[str | int]]]) -> list[Any]:
        # evalsha rather than the Script object: in a pipeline, that one asks SCRIPT
        # EXISTS first, a round trip more each time.
        with self.redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(self._script.sha, len(keys), *keys, *args)
            return list(pipe.execute(raise_on_error=False))

    def snapshot(self, job_id: str) -> Snapshot:
        """The live view and streamed output, read together at one seq."""
        return self.snapshots([job_id])[job_id]

    def replay(self, job_id: str, after: int) -> list[Event] | None:
        """The events after `after`, or None when the log no longer holds all of them."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.keys.seq(job_id))
            pipe.lrange(self.keys.log(job_id), 0, -1)
            raw_seq, raw_log = pipe.execute()
        last = int(raw_seq or 0)
        if after == last:
            return []
        if after > last:
            # The client knows of events Redis does not (Redis lost them): start afresh.
            return None
        events = [Event.parse(item) for item in raw_log]
        if not events or events[0].seq > after + 1:
            return None
        return [event for event in events if event.seq > after]

    def snapshots(self, job_ids: list[str]) -> dict[str, Snapshot]:
        """Live views of several jobs in one round trip, each consistent (MULTI/EXEC)."""
        with self.redis.pipeline(transaction=True) as pipe:
            for job_id in job_ids:
                pipe.hgetall(self.keys.view(job_id))
                pipe.get(self.keys.output(job_id))
            replies = pipe.execute()
        return {
            job_id: _snapshot(replies[2 * index], replies[2 * index + 1])
            for index, job_id in enumerate(job_ids)
        }

    def output_of(self, job_id: str) -> str | None:
        raw = self.redis.get(self.keys.output(job_id))
        return raw.decode() if isinstance(raw, bytes) else None

    def outputs_of(self, job_ids: list[str]) -> dict[str, str | None]:
        """`output_of` several jobs in one round trip."""
        raw = self.redis.mget([self.keys.output(job_id) for job_id in job_ids]) if job_ids else []
        return {
            job_id: value.decode() if isinstance(value, bytes) else None
            for job_id, value in zip(job_ids, raw, strict=True)
        }

    def forget(self, job_id: str) -> None:
        self.redis.delete(*self.keys.job_keys(job_id))


def _snapshot(raw_view: dict[bytes, bytes], raw_output: bytes | None) -> Snapshot:
    fields = {
        key.decode(): json.loads(value)
        for key, value in raw_view.items()
        if not key.startswith(b"_")
    }
    seq = int(fields.pop("seq", 0))
    output = raw_output.decode() if raw_output is not None else None
    return Snapshot(seq=seq, fields=fields, output=output)
