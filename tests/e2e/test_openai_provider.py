"""Workers on the openai provider, talking to a real OpenAI-protocol server on loopback.

The worker process's `openai` client streams from the server over TCP; the test reads
the job's events over a real WebSocket and what the server saw from its records.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.follow import run_job
from tests.e2e.stacks import loopback_model, start_own_stack
from tests.openai_server import Fail, OpenAIServer, Stream
from tests.stack import Stack

API_KEY = "sk-e2e-Loopback-0123456789abcdef"
TEXT = " ".join(f"word{n}" for n in range(40))


@pytest.fixture(scope="module")
def openai_stack(
    server: OpenAIServer, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        **loopback_model(server, key=API_KEY),
        "JOBCAST_MODEL_SMALL": "loop-small",
        "JOBCAST_MODEL_LARGE": "loop-large",
    }
    root = Path(tmp_path_factory.mktemp("openai-stack"))
    running = start_own_stack("openai", redis_url, namespace, root, env)
    yield running
    running.stop()


async def test_tokens_arrive_as_output_events_and_the_servers_usage_lands_in_the_job(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    server.plan("tokens-and-usage", Stream(TEXT, delay=0.01, usage=(812, 344)))
    done = await run_job(openai_stack, "chat", {"prompt": "tokens-and-usage: a lighthouse"})
    assert done.statuses == ["running", "completed"]
    outputs = [e for e in done.events if e["type"] == "output"]
    assert len(outputs) >= 2  # streamed as it came, not in one piece at the end
    assert done.output("answer") == TEXT == done.job["result"]["text"] == done.job["output"]
    usage = done.job["usage"]
    assert usage["provider"] == "openai"
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["llm_calls"]) == (812, 344, 1)
    assert usage["tokens_counted_locally"] is False
    [seen] = server.seen("tokens-and-usage")
    assert seen.body["model"] == "loop-default"
    assert seen.body["stream_options"] == {"include_usage": True}
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"


async def test_a_chat_with_an_interview_context_sends_the_transcript_to_the_model(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    context = {
        "interviewer": "Ada",
        "candidate": "Bo",
        "role": "harbour master",
        "transcript": [
            {"speaker": "Ada", "text": "Why the sea?"},
            {"speaker": "Bo", "text": "I grew up on a ferry."},
        ],
    }
    params = {"prompt": "interview-context: ask the next question", "context": context}
    done = await run_job(openai_stack, "chat", params)
    assert done.statuses == ["running", "completed"]
    [seen] = server.seen("interview-context")
    system, user = seen.body["messages"]
    assert system["role"] == "system" and user["content"] == params["prompt"]
    assert "job interview for the role of harbour master" in system["content"]
    assert "Ada: Why the sea?\nBo: I grew up on a ferry." in system["content"]


@pytest.mark.parametrize("status", [401, 404])
async def test_a_refused_request_fails_the_job_at_once_with_what_the_server_said(
    server: OpenAIServer, openai_stack: Stack, status: int
) -> None:
    marker = f"refused-{status}"
    server.plan(marker, Fail(status, f"Incorrect API key provided: {API_KEY}"))
    done = await run_job(openai_stack, "chat", {"prompt": f"{marker}: hello"})
    assert done.statuses == ["running", "failed"]
    assert done.job["attempts"] == 1
    error = done.job["error"]
    assert error["code"] == "llm_error"
    assert error["message"].startswith(f"the model server answered {status}: Incorrect API key")
    assert API_KEY not in json.dumps(done.job) and "sk-" not in error["message"]
    assert len(server.seen(marker)) == 1  # no retries, neither the SDK's nor ours


@pytest.mark.parametrize(
    ("marker", "first", "wait"),
    [
        (
            "transient-quota",
            Fail(429, "You exceeded your quota", {"Retry-After": "1"}, "insufficient_quota"),
            1.0,
        ),
        ("transient-500", Fail(500, "The server had an error"), 0.0),
        ("transient-cut", Stream(TEXT, cut_after=5), 0.0),
    ],
)
async def test_transient_errors_are_retried_with_backoff_and_the_job_completes(
    server: OpenAIServer, openai_stack: Stack, marker: str, first: Fail | Stream, wait: float
) -> None:
    server.plan(marker, first, Stream(TEXT))
    done = await run_job(openai_stack, "chat", {"prompt": f"{marker}: hello"})
    assert done.statuses == ["running", "retrying", "running", "completed"]
    assert done.job["attempts"] == 2
    assert done.job["result"]["text"] == TEXT == done.job["output"]
    before, after = server.seen(marker)
    assert after.at - before.at >= wait


async def test_a_429_is_waited_out_in_the_same_attempt_and_the_job_shows_it_waiting(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    server.plan("busy-429", Fail(429, "Rate limit reached", {"Retry-After": "1"}), Stream(TEXT))
    done = await run_job(openai_stack, "chat", {"prompt": "busy-429: hello"})
    assert done.statuses == ["running", "completed"]
    assert done.job["attempts"] == 1
    assert done.job["result"]["text"] == TEXT
    refused, sent_again = server.seen("busy-429")
    assert sent_again.at - refused.at >= 1.0
    shown = [(e["message"], e["stage"]) for e in done.progress]
    waiting = shown.index(("Waiting for model capacity", "waiting_for_model"))
    assert shown[waiting + 1] == ("Asking the model…", "answer")


async def test_a_time_limit_closes_the_request_to_the_model_server(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    server.plan("too-slow", Stream(TEXT, delay=0.25))  # 10 s of tokens
    done = await run_job(openai_stack, "chat", {"prompt": "too-slow: hi"}, time_limit=1)
    assert done.job["status"] == "failed"
    assert done.job["error"]["code"] == "timeout"
    seen = server.seen("too-slow")[0]
    await asyncio.to_thread(server.wait_for, lambda: seen.client_closed_at is not None)
    assert seen.client_closed_at is not None
    assert not seen.finished
    assert seen.client_closed_at - seen.at < 1 + 2  # the limit, plus the contract's 2 s
    assert done.job["usage"]["completion_tokens"] < 40


VALID_DRAWING = {
    "title": "Night watch",
    "objects": [
        {"kind": "rect", "x": 100, "y": 50, "w": 40, "h": 200, "text": "tower", "color": "#ffffff"},
        {"kind": "text", "x": 10, "y": 10, "w": 200, "h": 30, "text": "Lamp", "color": "#eab308"},
    ],
}
INVALID_DRAWING = {
    "title": "Night watch",
    "objects": [{"kind": "rect", "x": -5, "y": 50, "w": 40, "h": 200, "text": "", "color": "red"}],
}


async def test_invalid_structured_output_is_repaired_once(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    server.plan(
        "repair-once", Stream(json.dumps(INVALID_DRAWING)), Stream(json.dumps(VALID_DRAWING))
    )
    done = await run_job(openai_stack, "create_canvas", {"request": "repair-once: a tower"})
    assert done.statuses == ["running", "completed"]
    assert [p["stage"] for p in done.progress] == ["parse", "validate", "save"]
    assert [o["text"] for o in done.job["result"]["objects"]] == ["tower", "Lamp"]
    first, repair = server.seen("repair-once")
    assert first.body["response_format"]["type"] == "json_schema"
    assert "objects/0/color: 'red' is not one of" in repair.prompt
    assert "objects/0/x: -5 is less than the minimum of 0" in repair.prompt
    assert done.job["usage"]["stages"]["parse"]["llm_calls"] == 2


async def test_a_second_invalid_answer_fails_the_job_with_invalid_output(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    server.plan(
        "repair-fails", Stream("Sure! Here is a tower."), Stream(json.dumps(INVALID_DRAWING))
    )
    done = await run_job(openai_stack, "create_canvas", {"request": "repair-fails: a tower"})
    assert done.statuses == ["running", "failed"]
    error = done.job["error"]
    assert error["code"] == "invalid_output"
    assert "objects/0/color: 'red' is not one of" in error["message"]
    assert len(server.seen("repair-fails")) == 2


async def test_a_workflow_analyzes_on_the_small_model_and_generates_on_the_large_one(
    server: OpenAIServer, openai_stack: Stack
) -> None:
    analysis = {
        "goal": "Onboard staff",
        "actors": ["HR"],
        "inputs": [],
        "outputs": ["An account"],
        "outline": ["Create account", "Hand over laptop"],
    }
    step = {"kind": "action", "actor": "HR", "description": "Do it"}
    workflow = {
        "name": "Onboarding",
        "description": "New staff",
        "trigger": "Contract signed",
        "steps": [{"name": "Create account", **step}, {"name": "Hand over laptop", **step}],
    }
    server.plan("tiers", Stream(json.dumps(analysis)), Stream(json.dumps(workflow), delay=0.01))
    done = await run_job(openai_stack, "generate_workflow", {"requirements": "tiers: onboarding"})
    assert done.statuses == ["running", "completed"]
    assert [r.body["model"] for r in server.seen("tiers")] == ["loop-small", "loop-large"]
    stages = done.job["usage"]["stages"]
    assert (stages["analyze"]["model"], stages["generate"]["model"]) == ("loop-small", "loop-large")
    assert json.loads(done.output("generate")) == workflow
    assert [s["name"] for s in done.job["result"]["workflow"]["steps"]] == [
        "Create account",
        "Hand over laptop",
    ]
