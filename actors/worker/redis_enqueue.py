"""Many messages onto Dramatiq's Redis queues in one round trip, with their marks and wake-ups.

Dramatiq's `RedisBroker.enqueue` runs its dispatch script once per message; jobcast adds
a SET for the job's `enqueued` mark (store/enqueued.py) before it and a wake-up PUBLISH
after it (actors/worker/wakeup.py): three round trips a job. Here one script does all of
it for any number of messages due now, writing what Dramatiq's own `enqueue` command
writes (the message in the queue's hash, its id at the queue's tail).

Two things of the dispatch script are left out, on purpose: refreshing the sender's
heartbeat (only a consumer's acks depend on it) and the occasional queue maintenance
(the workers' fetches run it just as often). Middleware sees each message as
`Broker.enqueue` would show it: `before_enqueue`, the write, `after_enqueue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from dramatiq import Message

if TYPE_CHECKING:
    from actors.worker.wakeup import WakingRedisBroker

# KEYS: the marks, then each message's queue list and message hash.
# ARGV: mark ttl (s), number of marks, wake-up channel, number of queues to announce,
# those queue names, then each message's id and data.
_ENQUEUE_MANY = """
local ttl, marks, channel, announce = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
for i = 1, marks do
  redis.call('SET', KEYS[i], '1', 'EX', ttl)
end
local first = 5 + announce
for i = 0, (#KEYS - marks) / 2 - 1 do
  local id = ARGV[first + 2 * i]
  redis.call('HSET', KEYS[marks + 2 * i + 2], id, ARGV[first + 2 * i + 1])
  redis.call('RPUSH', KEYS[marks + 2 * i + 1], id)
end
for i = 5, 4 + announce do
  redis.call('PUBLISH', channel, ARGV[i])
end
return #KEYS - marks
"""


class RedisEnqueueMany:
    """The script, registered once per broker."""

    def __init__(self, broker: WakingRedisBroker) -> None:
        self.broker = broker
        self._script = broker.client.register_script(_ENQUEUE_MANY)

    def __call__(
        self, messages: Sequence[Message[Any]], marks: Sequence[str], mark_ttl_s: int
    ) -> list[Message[Any]]:
        """Enqueue `messages` (none delayed) and set `marks`; returns the messages as sent."""
        broker, namespace = self.broker, self.broker.namespace
        # A fresh id per enqueue, as Broker.enqueue gives each (a message may be sent again).
        sent = [m.copy(options={"redis_message_id": str(uuid4())}) for m in messages]
        for message in sent:
            broker.emit_before("enqueue", message, None)
        queues = sorted({message.queue_name for message in sent})
        keys = list(marks)
        args: list[str | bytes | int] = [mark_ttl_s, len(marks), broker.wake_ups.channel]
        args += [len(queues), *queues]
        for message in sent:
            keys += [f"{namespace}:{message.queue_name}", f"{namespace}:{message.queue_name}.msgs"]
            args += [message.options["redis_message_id"], message.encode()]
        self._script(keys=keys, args=args)
        with broker.wake_ups.announced():  # the script published them
            for message in sent:
                broker.emit_after("enqueue", message, None)
        return sent
