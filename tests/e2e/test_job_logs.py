"""Job lifecycle logs, read from what the real web and worker processes write.

One stack writes JSON (JOBCAST_LOG_FORMAT=json) with API keys and a model key configured;
the session's plain stack shows the default key=value text.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from tests.client import Received, read_all, read_until
from tests.faults import FAST_RECOVERY, FaultStack, start_fault_stack, wait_until
from tests.stack import Stack

KEY = f"alice-{secrets.token_urlsafe(24)}"
MODEL_KEY = f"sk-never-logged-{secrets.token_hex(12)}"
PROMPT = f"a prompt nobody may read in a log {secrets.token_hex(8)}"
COMMON = {"event", "job_id", "type", "attempt", "owner", "status"}


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[FaultStack]:
    env = {
        **FAST_RECOVERY,
        "JOBCAST_LOG_FORMAT": "json",
        "JOBCAST_API_KEYS": f"alice:{KEY}",
        "OPENAI_API_KEY": MODEL_KEY,
    }
    stack = start_fault_stack(tmp_path_factory.mktemp("job-logs"), redis_url, env)
    yield stack
    stack.stop()


def api(stack: FaultStack) -> httpx.Client:
    headers = {"Authorization": f"Bearer {KEY}"}
    return httpx.Client(base_url=stack.base_url, headers=headers, timeout=10)


def submit(stack: FaultStack, job_type: str, params: dict[str, Any]) -> str:
    with api(stack) as client:
        response = client.post("/jobs", json={"type": job_type, "params": params})
    assert response.status_code == 202, response.text
    assert response.json()["message"] == "Queued"
    job_id: str = response.json()["id"]
    return job_id


def events(stack: FaultStack, job_id: str) -> websockets.connect:
    protocols = [Subprotocol("jobcast"), Subprotocol(f"jobcast.bearer.{KEY}")]
    return websockets.connect(
        stack.events_url(job_id, after=0), subprotocols=protocols, open_timeout=10
    )


async def follow_to_end(stack: FaultStack, job_id: str) -> Received:
    async with events(stack, job_id) as ws:
        return await read_all(ws)


def json_lines(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def job_lines(log: Path, job_id: str, until: str) -> list[dict[str, Any]]:
    """The job's lines in `log`, once its `until` event is there (written after commit)."""

    def written() -> list[dict[str, Any]] | None:
        found = [line for line in json_lines(log) if line.get("job_id") == job_id]
        return found if any(line["event"] == until for line in found) else None

    found: list[dict[str, Any]] = wait_until(written, 10, f"no {until} line in {log.name}")
    return found


async def test_a_job_that_retried_once_logs_each_transition_as_one_json_line(
    logged: FaultStack,
) -> None:
    job_id = submit(logged, "flaky", {"failures": 1})
    received = await follow_to_end(logged, job_id)
    assert received.messages[-1]["status"] == "completed"

    lines = job_lines(logged.workers[0].log, job_id, until="completed")
    assert [(line["event"], line["attempt"], line["status"]) for line in lines] == [
        ("claimed", 1, "running"),
        ("retrying", 1, "retrying"),
        ("claimed", 2, "running"),
        ("completed", 2, "completed"),
    ]
    for line in lines:
        assert line.keys() >= COMMON
        assert (line["type"], line["owner"], line["logger"]) == ("flaky", "alice", "jobcast.jobs")
    retrying, completed = lines[1], lines[3]
    assert retrying["reason"] == "llm_error" and retrying["level"] == "INFO"
    assert 0 < retrying["delay_s"] <= float(FAST_RECOVERY["JOBCAST_RETRY_MAX"])
    assert completed["duration_s"] >= 0 and completed["provider"] == "simulated"
    assert lines[0]["worker"] == lines[2]["worker"]

    [submitted] = job_lines(logged.logs / "web.log", job_id, until="submitted")
    assert (submitted["owner"], submitted["type"], submitted["attempt"]) == ("alice", "flaky", 0)


async def test_the_web_logs_cancel_retry_and_delete(logged: FaultStack) -> None:
    # The server asks for a minute's pause after attempt 1: the job waits, retrying.
    job_id = submit(logged, "flaky", {"failures": 1, "retry_after": 60})
    async with events(logged, job_id) as ws:
        await read_until(ws, Received(), lambda m: m.get("status") == "retrying")
    with api(logged) as client:
        assert client.post(f"/jobs/{job_id}/cancel").status_code == 202
        assert client.post(f"/jobs/{job_id}/retry").status_code == 202
        await follow_to_end(logged, job_id)
        assert client.delete(f"/jobs/{job_id}").status_code == 204

    web = job_lines(logged.logs / "web.log", job_id, until="deleted")
    assert [line["event"] for line in web] == [
        "submitted", "cancelled", "retry_requested", "deleted",
    ]  # fmt: skip
    assert web[1]["was"] == "retrying"
    worker = job_lines(logged.workers[0].log, job_id, until="completed")
    assert [line["event"] for line in worker] == ["claimed", "retrying", "claimed", "completed"]
    assert worker[1]["delay_s"] > 50


async def test_keys_and_prompts_never_reach_the_logs(logged: FaultStack) -> None:
    job_id = submit(logged, "chat", {"prompt": PROMPT})
    received = await follow_to_end(logged, job_id)
    assert received.messages[-1]["status"] == "completed"
    [completed] = [
        line
        for line in job_lines(logged.workers[0].log, job_id, until="completed")
        if line["event"] == "completed"
    ]
    assert completed["prompt_tokens"] > 0 and completed["completion_tokens"] > 0

    for log in [logged.logs / "web.log", *(worker.log for worker in logged.workers)]:
        text = log.read_text()
        for secret in (KEY, MODEL_KEY, PROMPT):
            assert secret not in text, f"{secret[:12]}… is in {log.name}"


def test_web_lines_are_all_json(logged: FaultStack) -> None:
    with api(logged) as client:
        client.get("/jobs")  # an access-log line too
    lines = (logged.logs / "web.log").read_text().splitlines()
    assert lines and all(line.startswith("{") for line in lines), lines[:5]
    records = [json.loads(line) for line in lines]
    assert {"uvicorn.error", "uvicorn.access", "jobcast.jobs"} <= {r["logger"] for r in records}


async def test_the_default_format_is_one_key_value_line_per_event(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        job_id = client.post("/jobs", json={"type": "chat", "params": {"prompt": "x"}}).json()["id"]
    async with websockets.connect(stack.events_url(job_id)) as ws:
        await read_all(ws)

    def completed_line() -> str | None:
        lines = (stack.logs / "worker.log").read_text().splitlines()
        mine = [line for line in lines if f"job_id={job_id}" in line and "completed" in line]
        return mine[0] if mine else None

    line: str = wait_until(completed_line, 10, "no completed line in worker.log")
    assert " INFO jobcast.jobs: job completed event=completed " in line
    assert f"job_id={job_id} type=chat attempt=1 owner=anonymous status=completed" in line
    assert "provider=simulated" in line and "duration_s=" in line
