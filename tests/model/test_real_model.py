"""All six job types on a real model (SmolLM2-135M-Instruct on llama-cpp-python's
server), and a cancel that the server itself sees. Run with `make test-model`.

Params are small so that the run takes minutes on two cores. The jobs run one after
another (each one's seconds are its own); a table of what each did is printed.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.client import Received, connect, read_all, read_until
from tests.e2e.follow import Finished, run_job
from tests.model.model_server import ModelServer
from tests.model.watch_proxy import WatchProxy
from tests.stack import Stack

pytestmark = pytest.mark.timeout(1800)

JOBS: dict[str, dict[str, Any]] = {
    "chat": {"prompt": "In two sentences: what does a lighthouse keeper do?"},
    "generate_lore": {"kind": "relics", "theme": "a harbour town of lighthouses", "count": 1},
    "generate_workflow": {
        "requirements": "An employee asks for a day off; the manager approves or rejects "
        "it; HR records the decision."
    },
    "generate_personas": {"count": 2, "audience": "amateur astronomers"},
    "generate_backlog": {
        "description": "A small web app to book a table at a restaurant.",
        "stories": 1,
        "tasks_per_story": 1,
    },
    "create_canvas": {"request": "A house with a red roof under a yellow sun.", "max_objects": 3},
}
STRUCTURED = set(JOBS) - {"chat"}
LONG_STORY = "cancel-me: Write a long story, at least 800 words, about a lighthouse in a storm."


@dataclass
class Run:
    job_type: str
    done: Finished
    seconds: float

    @property
    def usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = self.done.job["usage"] or {}
        return usage

    def row(self) -> list[str]:
        job, usage = self.done.job, self.usage
        json_mode = "–"
        if "json_mode" in usage:
            constrained = usage["json_mode"] in ("json_schema", "json_object")
            json_mode = (
                f"{usage['json_mode']}{' (constrained)' if constrained else ''}: "
                f"{usage['json_answers']} answers, {usage['json_clamped']} clamped, "
                f"{usage['json_repaired']} repaired"
            )
        failed = len((job.get("result") or {}).get("failed_items") or [])
        note = job["error"]["message"][:60] if job.get("error") else f"failed items: {failed}"
        return [
            self.job_type, job["status"], f"{self.seconds:.1f}",
            str(usage.get("prompt_tokens", "?")), str(usage.get("completion_tokens", "?")),
            str(usage.get("llm_calls", "?")), json_mode, note,
        ]  # fmt: skip


def table(rows: list[list[str]]) -> str:
    head = ["type", "status", "seconds", "prompt tok", "completion tok", "calls", "JSON", "note"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return " | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True))

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(row) for row in rows)])


@pytest.fixture(scope="module")
def runs(
    model_stack: Stack, proxy: WatchProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    """Every type once, one after another; the table is printed even when one fails, and
    the jobs are kept in jobs.json to read what the model wrote."""
    done: dict[str, Run] = {}

    async def run_all() -> None:
        for job_type, params in JOBS.items():
            started = time.monotonic()
            finished = await run_job(model_stack, job_type, params)
            done[job_type] = Run(job_type, finished, time.monotonic() - started)

    try:
        asyncio.run(run_all())
    finally:
        print("\n\nSix job types on SmolLM2-135M-Instruct (llama-cpp-python server, CPU):")
        print(table([run.row() for run in done.values()]))
        counted = any(run.usage.get("tokens_counted_locally") for run in done.values())
        if counted:
            print("(tokens counted by jobcast: this server sends no usage in a stream)")
        modes = [(e.json_mode or "none", e.status) for e in proxy.exchanges]
        print("requests the server saw, by response_format and status:", _tally(modes))
        kept = tmp_path_factory.getbasetemp() / "jobs.json"
        kept.write_text(json.dumps({t: run.done.job for t, run in done.items()}, indent=2))
        print(f"the jobs, with what the model wrote: {kept}")
    yield done


def _tally(pairs: list[tuple[str, int | None]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for mode, status in pairs:
        key = f"{mode} → {status}"
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("job_type", list(JOBS))
def test_every_job_type_completes_on_the_real_model(runs: dict[str, Run], job_type: str) -> None:
    run = runs[job_type]
    job = run.done.job
    assert job["status"] == "completed", job["error"]
    assert run.done.statuses[-1] == "completed"
    assert not (job["result"] or {}).get("failed_items")
    assert job["usage"]["provider"] == "openai"
    assert job["usage"]["completion_tokens"] > 0


def test_structured_types_get_their_json_by_constrained_decoding(
    runs: dict[str, Run], proxy: WatchProxy
) -> None:
    for job_type in STRUCTURED:
        usage = runs[job_type].usage
        # The server refuses json_schema; json_object with the schema is a grammar there.
        assert usage["json_mode"] == "json_object", job_type
        assert usage["json_answers"] >= 1, job_type
    # The worker probed once: one json_schema request refused, the rest json_object.
    asked = [(e.json_mode, e.status) for e in proxy.exchanges if e.json_mode is not None]
    assert asked[0] == ("json_schema", 500)
    assert set(asked[1:]) == {("json_object", 200)}


async def test_a_cancelled_job_closes_its_request_and_the_server_stops_generating(
    model_stack: Stack, proxy: WatchProxy, model_server: ModelServer
) -> None:
    response = httpx.post(
        f"{model_stack.base_url}/jobs",
        json={"type": "chat", "params": {"prompt": LONG_STORY}},
        timeout=10,
    )
    job_id = response.json()["id"]
    received = Received()
    async with connect(model_stack.events_url(job_id, after=0)) as ws:
        # Mid-stream: a few output events in, with most of a long story still to come.
        await read_until(
            ws, received, lambda _: [e["type"] for e in received.events].count("output") == 3
        )
        cancelled_at = time.monotonic()
        answer = httpx.post(f"{model_stack.base_url}/jobs/{job_id}/cancel", timeout=10)
        assert answer.status_code == 202
        await read_all(ws, received)
    assert received.events[-1]["type"] == "status"
    assert received.events[-1]["status"] == "cancelled"

    [exchange] = proxy.seen("cancel-me")
    closed = await asyncio.to_thread(
        proxy.wait_for, lambda: exchange.server_closed_at is not None, 15
    )
    assert closed, "the server never closed its side of the cancelled request"
    assert exchange.client_closed_at is not None and exchange.server_closed_at is not None
    assert not exchange.finished  # no [DONE]: the server did not write the story to its end
    # The server's own log names the connection the proxy held for this request.
    said = await asyncio.to_thread(_logged_disconnect, model_server, exchange.upstream_port)
    assert said is not None, f"no disconnect of port {exchange.upstream_port} in the server log"
    usage = (await asyncio.to_thread(_final_job, model_stack, job_id))["usage"]
    print(
        f"\ncancel: the worker closed the request {exchange.client_closed_at - cancelled_at:.2f} s"
        f" after POST /cancel; the server closed its side "
        f"{exchange.server_closed_at - exchange.client_closed_at:.2f} s later, its answer "
        f"unfinished ({exchange.bytes_after_close} bytes sent after the close; "
        f"{usage['completion_tokens']} tokens counted); server log: {said.group()!r}"
    )
    assert exchange.client_closed_at - cancelled_at < 2.0  # the contract's bound


def _logged_disconnect(server: ModelServer, port: int, timeout: float = 10) -> re.Match[str] | None:
    """The server's log line for the client at `port` going away (printed as the server
    cancels that request's generation, a moment after it closed the socket); a log file
    has no event to await, so it is polled."""
    line = re.compile(rf"Disconnected from client \(via refresh/close\) .*\b{port}\)")
    deadline = time.monotonic() + timeout
    while (found := line.search(server.log_text())) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _final_job(stack: Stack, job_id: str) -> dict[str, Any]:
    """The job once the worker has written the stopped attempt's usage."""
    deadline = time.monotonic() + 10
    while True:
        job: dict[str, Any] = httpx.get(f"{stack.base_url}/jobs/{job_id}", timeout=10).json()
        if job["usage"] or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
