"""Idle workers wake up when a message is enqueued, so they can poll Redis rarely.

Dramatiq's Redis broker has no blocking fetch: an idle consumer fetches, finds nothing
and sleeps, so a message waits for the next fetch, and fetching often costs Redis
commands and CPU all day. Here, after each enqueue (from a web process or a worker, on
any host) the broker PUBLISHes the queue's name on one channel; each worker process
listens on it in one thread and sets that queue's event; an idle consumer waits on its
event where Dramatiq would sleep. Polling (JOBCAST_WORKER_POLL_MS) stays as the safety
net: a wake-up lost on the way (the listener reconnecting, a message that Dramatiq's
maintenance puts back, a sender without this middleware) costs at most one interval,
never the message.

The plain `dramatiq` CLI has no option for Dramatiq's `worker_timeout`, so the
middleware sets it as the worker boots. It is no longer the poll interval, only how
soon idle worker threads (and, once the worker is stopping, its consumers) notice a stop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dramatiq import Broker, Message, Middleware, Worker
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import current_millis
from dramatiq.worker import QUEUE_PREFETCH
from redis import Redis
from redis.exceptions import RedisError

from actors.worker.redis_enqueue import RedisEnqueueMany

log = logging.getLogger(__name__)

RECONNECT_DELAY_S = 1.0
# Dramatiq's `worker_timeout` (its default is 1000 ms): idle worker threads wake this
# often, so a stopping worker exits this much sooner than it would with the default.
THREAD_TICK_MS = 100


class WakeUps(Middleware):
    """Announces enqueued messages, and (in a worker process) hears the announcements."""

    def __init__(self, redis: Redis, channel: str, poll_ms: int) -> None:
        self.redis = redis
        self.channel = channel
        self.poll_ms = poll_ms
        self.stopping = False
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._quiet = threading.local()

    def event(self, queue_name: str) -> threading.Event:
        """The event that wakes this process's consumer of `queue_name`."""
        with self._lock:
            return self._events.setdefault(queue_name, threading.Event())

    def announce(self, queue_name: str) -> None:
        try:
            self.redis.publish(self.channel, queue_name)
        except RedisError as error:  # the message is safe in Redis; polling finds it
            log.debug("wake-up for %s not published: %s", queue_name, error)

    @contextlib.contextmanager
    def announced(self) -> Iterator[None]:
        """In this thread, enqueues already announced (by the batch script) are not again."""
        self._quiet.on = True
        try:
            yield
        finally:
            self._quiet.on = False

    def after_enqueue(self, broker: Broker, message: Message[Any], delay: int) -> None:
        if getattr(self._quiet, "on", False):
            return
        # A delayed message is on the delay queue (`jobs.DQ`): that consumer holds it
        # until it is due, then enqueues it on `jobs`, which announces it again.
        self.announce(message.queue_name)

    def before_worker_boot(self, broker: Broker, worker: Worker) -> None:
        worker.worker_timeout = THREAD_TICK_MS
        # Dramatiq prefetches twice its threads per queue. Jobs run for seconds to minutes,
        # so a process holding messages it cannot start yet starves an idle neighbour
        # (docs/PERFORMANCE.md): take only what there are threads for.
        if not QUEUE_PREFETCH:  # Dramatiq's own `dramatiq_queue_prefetch` variable wins
            worker.queue_prefetch = worker.worker_threads

    def after_worker_boot(self, broker: Broker, worker: Worker) -> None:
        threading.Thread(target=self._listen_forever, name="jobcast-wakeups", daemon=True).start()

    def before_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        # Dramatiq stops the consumers last, with no hook of its own: from now on they
        # wait one tick at most, so they see their stop promptly.
        self.stopping = True
        self._stop.set()
        self._wake_all()

    def _wake_all(self) -> None:
        with self._lock:
            events = list(self._events.values())
        for event in events:
            event.set()

    def _listen_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except (RedisError, OSError) as error:
                log.warning("wake-up listener lost Redis (%s); workers poll meanwhile", error)
            self._stop.wait(RECONNECT_DELAY_S)

    def _listen(self) -> None:
        # redis-py leaves pubsub() unannotated.
        with self.redis.pubsub() as pubsub:
            pubsub.subscribe(self.channel)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    # Subscribed now: anything enqueued before this was not announced
                    # to us, so every consumer looks once.
                    self._wake_all()
                elif message["type"] == "message":
                    self.event(message["data"].decode()).set()


class WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, waiting for its queue's wake-up where it would sleep.

    Dramatiq's own backoff sleep is made zero (timeout 0); the wait below replaces it,
    bounded by the poll interval, or by `timeout` (the worker's tick) once stopping.
    """

    def __init__(
        self, broker: WakingRedisBroker, queue_name: str, prefetch: int, timeout: int
    ) -> None:
        super().__init__(broker, queue_name, prefetch, 0)
        self.wake_ups = broker.wake_ups
        self.wake = broker.wake_ups.event(queue_name)
        self.tick_ms = timeout
        # Delayed messages handed to the worker and not yet moved to their queue, by
        # id: an idle delay-queue consumer must come back when the first one is due.
        self.etas: dict[str, int] = {}

    def __next__(self) -> Any:
        # Cleared before the fetch: a wake-up that arrives after it keeps the event set,
        # so the wait below returns at once and the next fetch finds the message.
        self.wake.clear()
        message = super().__next__()
        if message is None:
            self.wake.wait(self._idle_ms() / 1000)
        elif "eta" in message.options:
            self.etas[message.message_id] = message.options["eta"]
        return message

    def _idle_ms(self) -> int:
        longest = self.tick_ms if self.wake_ups.stopping else self.wake_ups.poll_ms
        if not self.etas:
            return longest
        return max(1, min(longest, min(self.etas.values()) - current_millis()))

    def ack(self, message: Any) -> None:
        try:
            super().ack(message)
        finally:
            self._settled(message)

    def nack(self, message: Any) -> None:
        try:
            super().nack(message)
        finally:
            self._settled(message)

    def _settled(self, message: Any) -> None:
        # One fewer message in hand: a consumer that had its fill may fetch again.
        self.etas.pop(message.message_id, None)
        self.wake.set()

    def requeue(self, messages: Iterable[Any]) -> None:
        """Messages put back (a worker stopping): other workers hear of them at once."""
        messages = list(messages)
        super().requeue(messages)
        if messages:
            self.wake_ups.announce(self.queue_name)


class WakingRedisBroker(RedisBroker):
    """Dramatiq's Redis broker whose consumers wait for wake-ups (see `WakeUps`)."""

    def __init__(self, *, wake_ups: WakeUps, **options: Any) -> None:
        super().__init__(**options)
        self.wake_ups = wake_ups
        self.add_middleware(wake_ups)
        self._enqueue_many = RedisEnqueueMany(self)

    def enqueue_many(
        self, messages: Sequence[Message[Any]], marks: Sequence[str], mark_ttl_s: int
    ) -> list[Message[Any]]:
        """Messages due now, the keys marking them sent and their wake-ups: one round trip.

        The seam for brokers that cannot do this: without `enqueue_many`, the sender
        enqueues one message at a time (actors/worker/run.py, `send_jobs`).
        """
        return self._enqueue_many(messages, marks, mark_ttl_s)

    @property
    def consumer_class(self) -> type[WakingConsumer]:
        return WakingConsumer
