"""Traces in the worker: each message's `jobcast.run_job` span continues the trace its
sender put in the message's options (store/tracing.py), so one trace runs from the web's
submit through every attempt of the job.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from store import tracing
from store.settings import Settings


class TraceMessages(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.mode = settings.otel
        # Open spans by message id. Dramatiq calls before_ and after_process_message in
        # the worker thread that runs the actor, so the span is current there throughout.
        self.spans: dict[str, Any] = {}

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        tracing.setup(self.mode, "jobcast-worker")

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        tracing.setup(self.mode, "jobcast-worker")  # also a Worker started without the CLI

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if tracing.tracer is None:
            return
        attributes = {
            "messaging.message.id": message.message_id,
            "messaging.destination.name": message.queue_name,
        }
        if message.args:
            attributes["jobcast.job.id"] = str(message.args[0])
        handle = tracing.start_message_span(message.options, attributes)
        self.spans[message.message_id] = handle

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        tracing.end_message_span(self.spans.pop(message.message_id, None), exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)
