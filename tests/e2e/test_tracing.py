"""One trace per job, across processes: with JOBCAST_OTEL=console the web and the worker
print their spans, and the spans of one job share one trace id, parent by parent, from
the web's submit to the worker's model call and the attempt's recorded end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client import connect, read_all, submit
from tests.e2e.stacks import start_own_stack
from tests.stack import Stack

Span = dict[str, Any]


@pytest.fixture(scope="module")
def traced(
    redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A stack whose processes print their spans; its own database and key namespace,
    so no other stack's worker takes its jobs."""
    env = {"JOBCAST_SIM_TTFT": "0.01", "JOBCAST_SIM_TPS": "500", "JOBCAST_OTEL": "console"}
    root = Path(tmp_path_factory.mktemp("traced"))
    running = start_own_stack("traced", redis_url, namespace, root, env)
    yield running
    running.stop()


def printed_spans(log: Path) -> list[Span]:
    """The spans the console exporter printed (pretty JSON objects between log lines)."""
    text, decoder, spans = log.read_text(), json.JSONDecoder(), []
    start = text.find('{\n    "name"')
    while start != -1:
        span, end = decoder.raw_decode(text, start)
        spans.append(span)
        start = text.find('{\n    "name"', end)
    return spans


def spans_of(stack: Stack, job_id: str, names: set[str]) -> dict[str, Span]:
    """The spans of the trace the job's submit started, by name, once each of `names`
    has been printed (the worker ends its message's span just after the job's last event)."""
    deadline = time.monotonic() + 20
    while True:
        spans = printed_spans(stack.logs / "web.log") + printed_spans(stack.logs / "worker.log")
        traces = {
            span["context"]["trace_id"]
            for span in spans
            if span["name"] == "jobcast.submit" and span["attributes"]["jobcast.job.id"] == job_id
        }
        found = {span["name"]: span for span in spans if span["context"]["trace_id"] in traces}
        if names <= found.keys() or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


async def test_one_trace_follows_a_job_from_submit_to_completion(traced: Stack) -> None:
    job_id = submit(traced, "Tell me about comets")
    ws = await connect(traced.events_url(job_id))
    assert (await read_all(ws)).messages[-1]["status"] == "completed"

    names = {"jobcast.submit", "jobcast.run_job", "jobcast.attempt", "jobcast.llm.call"}
    spans = spans_of(traced, job_id, names)
    assert names <= spans.keys(), sorted(spans)
    assert len({span["context"]["trace_id"] for span in spans.values()}) == 1
    assert {span["attributes"].get("jobcast.job.id", job_id) for span in spans.values()} == {job_id}
    submitted, message = spans["jobcast.submit"], spans["jobcast.run_job"]
    attempt, call = spans["jobcast.attempt"], spans["jobcast.llm.call"]
    assert submitted["resource"]["attributes"]["service.name"] == "jobcast-web"
    assert message["resource"]["attributes"]["service.name"] == "jobcast-worker"
    assert message["parent_id"] == submitted["context"]["span_id"]
    assert attempt["parent_id"] == message["context"]["span_id"]
    assert call["parent_id"] == attempt["context"]["span_id"]
    assert attempt["attributes"]["jobcast.outcome"] == "completed"
    assert call["attributes"]["gen_ai.usage.output_tokens"] > 0
