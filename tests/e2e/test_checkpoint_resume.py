"""Stage checkpoints: a lore job whose worker is SIGKILLed in its last stage completes on
another worker, which calls the model for that stage only (counted at the loopback
model server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client import connect, read_all
from tests.faults import FAST_RECOVERY, start_fault_stack, submit_job, wait_status
from tests.openai_server import OpenAIServer, Stream

NAME, HISTORY = "Give it a fitting, original name.", "Tell its history"
SLOW_HISTORY = Stream(" ".join(["Long"] * 400), delay=0.05)  # 20 s: killed long before


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    running = OpenAIServer().start()
    yield running
    running.stop()


@pytest.mark.timeout(90)
async def test_a_lore_job_killed_in_its_last_stage_resumes_there_on_another_worker(
    tmp_path: Path, redis_url: str, server: OpenAIServer
) -> None:
    env = {
        **FAST_RECOVERY,
        "JOBCAST_LLM": "openai",
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": "sk-e2e-Loopback-0123456789abcdef",
    }
    server.plan(NAME, Stream('{"name": "The Ember Crown"}'))
    server.plan(HISTORY, SLOW_HISTORY, Stream("Forged in the first winter."))
    stack = start_fault_stack(tmp_path, redis_url, env, workers=2, threads=1)
    try:
        # relics: a brief, then name → description → history: 4 model calls.
        job_id = submit_job(stack, "generate_lore", {"kind": "relics", "theme": "ash", "count": 1})
        server.request(HISTORY, timeout=20)
        stack.kill_worker(stack.worker_running(job_id))
        job = wait_status(stack, job_id, {"completed", "failed"}, timeout=45)
        async with connect(stack.events_url(job_id, after=0)) as ws:
            received = await read_all(ws)
    finally:
        stack.stop()

    assert job["status"] == "completed", job["error"]
    assert job["attempts"] == 2
    assert job["result"]["items"][0]["history"] == "Forged in the first winter."
    assert job["result"]["items"][0]["name"] == "The Ember Crown"
    # Every call of the killed attempt but the last stage's is reused: 4 + 1 in all.
    assert len(server.seen()) == 5
    assert len(server.seen(HISTORY)) == 2
    assert job["usage"]["reused_calls"] == 3
    # What the user watched: the second attempt said what it reused.
    attempt_2 = [e for e in received.events if e["type"] == "progress" and e["seq"] > 1]
    assert any(
        e["message"] == "Resuming: 3 steps finished by earlier attempts are reused (3 model calls)"
        for e in attempt_2
    ), [e["message"] for e in attempt_2]
