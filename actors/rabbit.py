"""RabbitMQ as the message broker (JOBCAST_BROKER=rabbitmq): Dramatiq's own RabbitmqBroker.

Only run_job messages move to RabbitMQ; events, live views, leases, enqueue marks,
worker heartbeats and cancel signals stay on Redis. What the Redis broker needs that
RabbitMQ does not (actors/worker/wakeup.py, and Dramatiq's Redis-only settings):
- RabbitMQ pushes messages to consumers, so there is no polling and no wake-up channel:
  an idle worker gets a message as soon as it is published.
- A worker that dies (SIGKILL, lost network) loses its connection, and RabbitMQ hands its
  unacknowledged messages to another consumer at once: no heartbeat timeout and no
  maintenance pass. The redelivered message finds its job `running` under a fresh
  lease and is ignored as a duplicate; jobcast's reconciler recovers the job a lease
  later, as it does on Redis.
- Queues are durable and messages persistent (Dramatiq declares them so), and with
  publisher confirms a send returns only once RabbitMQ has taken the message.

Sending: pika is not thread-safe, so Dramatiq's broker opens a connection for each
thread that sends and keeps it for good. The web process sends from AnyIO's thread pool,
whose threads exit after 10 s idle: every burst after a pause would open new connections
and leave the old ones open. So every send goes through a few threads of our own that
live as long as the process (`SendingRabbitmqBroker`), and a process holds at most
SENDERS connections for sending. The submit waits for its send in its pool thread,
never on the event loop.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dramatiq import Broker, Message, Middleware, Worker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.worker import QUEUE_PREFETCH
from pika.exceptions import AMQPError

from actors.worker.wakeup import THREAD_TICK_MS

# Connection options, unless RABBITMQ_URL's query sets them (pika reads these names):
# - a connect that gets no answer fails after 3 s; a refused one at once. Dramatiq tries
#   a failed send 6 times on new connections, so a submit waits 20 s at worst;
# - RabbitMQ blocks publishers under a memory or disk alarm: each try gives up after 5 s
#   (the job is accepted anyway; the reconciler sends it once RabbitMQ recovers);
# - heartbeats every 30 s let both sides notice a dead peer; an idle sending thread's
#   connection that the server closed meanwhile is replaced on its next send.
# Threads (each with its connection) that send, per process: a send with confirms takes
# 1–5 ms, so four carry hundreds of submits a second.
SENDERS = 4
CONNECTION_DEFAULTS = {
    "socket_timeout": "3",
    "connection_attempts": "1",
    "blocked_connection_timeout": "5",
    "heartbeat": "30",
}


def with_defaults(url: str) -> str:
    """`url` with CONNECTION_DEFAULTS added to its query, where the query lacks them."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**CONNECTION_DEFAULTS, **query})))


class SendingRabbitmqBroker(RabbitmqBroker):
    """Dramatiq's RabbitmqBroker, sending from SENDERS long-lived threads of its own."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Threads start on the first send, so importing `actors` still starts none.
        self.senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="jobcast-rabbitmq-send")

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        send = super().enqueue
        return self.senders.submit(send, message, delay=delay).result()

    def check(self) -> None:
        """Raise unless RabbitMQ answers on a sending connection (for `/health`)."""
        self.senders.submit(self._check).result()

    def _check(self) -> None:
        try:
            self.connection.process_data_events(time_limit=0)
        except (AMQPError, OSError):
            del self.connection  # the next send or check connects anew
            raise


def rabbitmq_broker(url: str, middleware: list[Middleware]) -> RabbitmqBroker:
    """Dramatiq's RabbitmqBroker on `url` (its vhost keeps deployments apart).

    - confirm_delivery: a send waits for RabbitMQ's ack, so an accepted job's message is
      in a durable queue, or the send raises (and the reconciler sends it later). It
      also makes Dramatiq redeclare a queue deleted behind its back. Costs one round
      trip per send.
    - max_priority stays unset: priority is three queues, as on Redis (store/keys.py),
      ordered by each worker among the messages it holds. `x-max-priority` is a queue
      argument fixed when a queue is first declared; a later change would make every
      declare fail with PRECONDITION_FAILED.
    """
    broker = SendingRabbitmqBroker(
        url=with_defaults(url), confirm_delivery=True, middleware=middleware
    )
    broker.add_middleware(PushedConsumers())
    return broker


class PushedConsumers(Middleware):
    """Worker settings for a broker that pushes: prefetch as many messages as threads.

    RabbitMQ's prefetch (`basic.qos`) is how many unacknowledged messages a consumer
    holds. Dramatiq's default is twice the threads per queue; jobs run for minutes, so
    a process holding messages it cannot start yet starves an idle neighbour.
    `worker_timeout` is how long a consumer waits for a push before it looks at its
    delayed messages and at a stop: the tick makes retries start on time and stops quick.
    """

    def before_worker_boot(self, broker: Broker, worker: Worker) -> None:
        worker.worker_timeout = THREAD_TICK_MS
        if not QUEUE_PREFETCH:  # Dramatiq's own `dramatiq_queue_prefetch` variable wins
            worker.queue_prefetch = worker.worker_threads
