"""What a worker measures: once per claim, per attempt and per model call, never per token.

The histograms live in this process (prometheus-client; in PROMETHEUS_MULTIPROC_DIR when
it is set) and each worker host serves them on JOBCAST_WORKER_METRICS_PORT
(actors/worker/exposition.py). Labels are bounded: job type, queue, outcome, model name.
The same hooks open and close the attempt's and the model call's trace spans.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dramatiq.common import q_name
from dramatiq.middleware import CurrentMessage
from prometheus_client import Histogram

from actors.providers.base import Usage
from store import tracing
from store.models import Job
from store.prometheus import RATE_BUCKETS, TIME_BUCKETS

if TYPE_CHECKING:
    from opentelemetry.trace import Span

QUEUE_WAIT = Histogram(
    "jobcast_queue_wait_seconds",
    "From a job's message being due (sent, or its retry's time come) to a worker claiming it.",
    ["type", "queue"],
    buckets=TIME_BUCKETS,
)
ATTEMPT = Histogram(
    "jobcast_attempt_duration_seconds",
    "One attempt of a job, from its claim to its recorded end, by how it ended.",
    ["type", "outcome"],
    buckets=TIME_BUCKETS,
)
FIRST_TOKEN = Histogram(
    "jobcast_llm_time_to_first_token_seconds",
    "From sending a model call to its first token of output.",
    ["model"],
    buckets=TIME_BUCKETS,
)
TOKEN_RATE = Histogram(
    "jobcast_llm_output_tokens_per_second",
    "Output tokens a second of one model call, from its first token to its last.",
    ["model"],
    buckets=RATE_BUCKETS,
)
# The families a worker host's /metrics serves.
NAMES = frozenset(
    {
        "jobcast_queue_wait_seconds",
        "jobcast_attempt_duration_seconds",
        "jobcast_llm_time_to_first_token_seconds",
        "jobcast_llm_output_tokens_per_second",
    }
)


@dataclass
class Attempt:
    """One claimed attempt: its clock and its span."""

    job: Job
    started: float = field(default_factory=time.monotonic)
    span: Span | None = None
    observed: bool = False

    @classmethod
    def claimed(cls, job: Job) -> Attempt:
        """Observe the queue wait of the message being processed in this thread."""
        message = CurrentMessage.get_current_message()
        if message is not None:
            due_ms = max(message.message_timestamp, message.options.get("eta") or 0)
            waited = max(0.0, time.time() - due_ms / 1000)
            QUEUE_WAIT.labels(job.type, q_name(message.queue_name)).observe(waited)
        return cls(job, span=tracing.start_attempt(job.id, job.attempts, job.type))

    def ended(self, recorded: Job | None) -> Job | None:
        """`recorded` is the row as the attempt left it (None: it ended elsewhere)."""
        self._observe(str(recorded.status) if recorded is not None else "ended_elsewhere")
        return recorded

    def close(self) -> None:
        if not self.observed:
            self._observe("error")

    def _observe(self, outcome: str) -> None:
        self.observed = True
        ATTEMPT.labels(self.job.type, outcome).observe(time.monotonic() - self.started)
        tracing.end_attempt(self.span, self.job.id, self.job.attempts, outcome)


class Call:
    """One model call: `first_token()` when its first delta arrives, `ended()` after."""

    __slots__ = ("first_at", "model", "sent_at", "span")

    def __init__(self, model: str, stage: str) -> None:
        self.model = model
        self.sent_at = time.monotonic()
        self.first_at: float | None = None
        self.span = tracing.start_call(model, stage)

    def first_token(self) -> None:
        self.first_at = time.monotonic()

    def ended(self, usage: Usage) -> None:
        tracing.end_call(self.span, usage.prompt_tokens, usage.completion_tokens)
        if self.first_at is None:  # no output: nothing to time
            return
        FIRST_TOKEN.labels(self.model).observe(self.first_at - self.sent_at)
        streaming = time.monotonic() - self.first_at
        if usage.completion_tokens > 1 and streaming > 0:
            # Tokens after the first, over the time they took to come.
            TOKEN_RATE.labels(self.model).observe((usage.completion_tokens - 1) / streaming)
