"""Traces of jobs (OpenTelemetry), off unless `JOBCAST_OTEL` is `console` or `otlp`.

One trace follows a job across processes: the web's `jobcast.submit` span, then on the
worker `jobcast.run_job` (one per message), `jobcast.attempt` (claim to recorded end, with
the outcome) and one `jobcast.llm.call` per model call. The context travels in the
Dramatiq message's options (`trace`, W3C `traceparent`), injected by `send_job` and
extracted by the worker's middleware (actors/worker/tracing.py).

With tracing off nothing of OpenTelemetry is imported, and every function here returns
at its first line: `tracer` is None.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

# The message option that carries the trace context.
OPTION = "trace"

tracer: Tracer | None = None
# Each running attempt's context, by (job id, attempt): the pipeline's task runs in it.
_attempts: dict[tuple[str, int], Context] = {}


def setup(mode: str, service: str) -> None:
    """Start tracing in this process (`mode` is the JOBCAST_OTEL setting)."""
    global tracer
    if mode == "off" or tracer is not None:
        return
    # Installed: the settings checked that (store/settings.py).
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(_processor(mode))
    tracer = provider.get_tracer("jobcast")


def _processor(mode: str) -> Any:
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    if mode == "console":  # each span printed as it ends: nothing lost when a process stops
        return SimpleSpanProcessor(ConsoleSpanExporter())
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]  # optional, not in our locks
        OTLPSpanExporter,
    )

    return BatchSpanProcessor(OTLPSpanExporter())


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, str | int] | None = None) -> Iterator[None]:
    """A span around the block, child of the current one (nothing when tracing is off)."""
    if tracer is None:
        yield
        return
    with tracer.start_as_current_span(name, attributes=attributes):
        yield


def message_options() -> dict[str, Any]:
    """The current trace context as Dramatiq message options ({} when off)."""
    if tracer is None:
        return {}
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return {OPTION: carrier}


def start_message_span(options: Mapping[str, Any], attributes: Mapping[str, str]) -> Any:
    """`jobcast.run_job`, child of the sender's context, made current in this thread;
    returns what `end_message_span` needs (None when off)."""
    if tracer is None:
        return None
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.propagate import extract

    parent = extract(options.get(OPTION) or {})
    started = tracer.start_span("jobcast.run_job", parent, trace.SpanKind.CONSUMER, attributes)
    token = otel_context.attach(trace.set_span_in_context(started, parent))
    return started, token


def end_message_span(handle: Any, error: BaseException | None) -> None:
    if handle is None:
        return
    from opentelemetry import context as otel_context

    started, token = handle
    if error is not None:
        started.record_exception(error)
    started.end()
    otel_context.detach(token)


def start_attempt(job_id: str, attempt: int, job_type: str) -> Span | None:
    """`jobcast.attempt` under the current span; the pipeline's task will run under it."""
    if tracer is None:
        return None
    from opentelemetry import trace

    attrs: dict[str, str | int] = {
        "jobcast.job.id": job_id,
        "jobcast.job.type": job_type,
        "jobcast.attempt": attempt,
    }
    started = tracer.start_span("jobcast.attempt", attributes=attrs)
    _attempts[job_id, attempt] = trace.set_span_in_context(started)
    return started


def end_attempt(started: Span | None, job_id: str, attempt: int, outcome: str) -> None:
    if started is None:
        return
    _attempts.pop((job_id, attempt), None)
    started.set_attribute("jobcast.outcome", outcome)
    started.end()


def task_context(job_id: str, attempt: int) -> contextvars.Context | None:
    """The contextvars for the attempt's pipeline task (None, the default, when off)."""
    if tracer is None or (job_id, attempt) not in _attempts:
        return None
    from opentelemetry import context as otel_context

    # A copy of the caller's contextvars (the job's log fields stay), with the span set.
    copied = contextvars.copy_context()
    copied.run(otel_context.attach, _attempts[job_id, attempt])
    return copied


def start_call(model: str, stage: str) -> Span | None:
    """`jobcast.llm.call` under the pipeline's current span (GenAI attribute names)."""
    if tracer is None:
        return None
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model, "jobcast.stage": stage}
    return tracer.start_span("jobcast.llm.call", attributes=attrs)


def end_call(started: Span | None, prompt_tokens: int, completion_tokens: int) -> None:
    if started is None:
        return
    started.set_attribute("gen_ai.usage.input_tokens", prompt_tokens)
    started.set_attribute("gen_ai.usage.output_tokens", completion_tokens)
    started.end()
