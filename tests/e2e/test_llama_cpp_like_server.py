"""Workers on a server that refuses `json_schema` as llama-cpp-python's does (a 500 with
a validation error), with the key `x` that local servers are given.

The loopback server stands in for llama.cpp's; `make test-model` runs the real one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.follow import run_job
from tests.e2e.stacks import start_own_stack
from tests.openai_server import Fail, OpenAIServer, Seen, Stream
from tests.stack import Stack

DRAWING = {
    "title": "Night watch",
    "objects": [
        {"kind": "rect", "x": 100, "y": 50, "w": 40, "h": 200, "text": "tower", "color": "#ffffff"}
    ],
}


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    running = OpenAIServer(response_formats={"text", "json_object"}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def llama_stack(
    server: OpenAIServer, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        "JOBCAST_LLM": "openai",
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": "x",
        "JOBCAST_MODEL": "smollm2",
    }  # JOBCAST_OPENAI_RESPONSE_FORMAT left at its default
    root = Path(tmp_path_factory.mktemp("llama-stack"))
    running = start_own_stack("llama", redis_url, namespace, root, env)
    yield running
    running.stop()


def formats(requests: list[Seen]) -> list[str | None]:
    return [(r.body.get("response_format") or {}).get("type") for r in requests]


async def test_structured_jobs_fall_back_to_json_object_with_the_schema_and_say_so(
    server: OpenAIServer, llama_stack: Stack
) -> None:
    server.plan("lamp-canvas", Stream(json.dumps(DRAWING)))
    done = await run_job(llama_stack, "create_canvas", {"request": "lamp-canvas: a tower"})
    assert done.statuses == ["running", "completed"]
    assert [o["text"] for o in done.job["result"]["objects"]] == ["tower"]
    refused, accepted = server.seen("lamp-canvas")
    assert formats([refused, accepted]) == ["json_schema", "json_object"]
    assert accepted.body["response_format"]["schema"]["properties"]["objects"]["maxItems"] == 12
    usage = done.job["usage"]
    assert (usage["json_mode"], usage["json_answers"], usage["json_repaired"]) == (
        "json_object",
        1,
        0,
    )
    assert usage["llm_calls"] == 1  # the refused request is not a call of the job

    # The worker remembers: the next structured job asks in json_object straight away.
    server.plan("lamp-again", Stream(json.dumps(DRAWING)))
    again = await run_job(llama_stack, "create_canvas", {"request": "lamp-again: a tower"})
    assert again.job["status"] == "completed"
    assert formats(server.seen("lamp-again")) == ["json_object"]


async def test_a_500_that_calls_the_request_invalid_fails_at_once_with_its_text_intact(
    server: OpenAIServer, llama_stack: Stack
) -> None:
    said = (
        "1 validation error:\n  {'type': 'string_type', 'loc': ('body', 'messages', 0, "
        "'content'), 'msg': 'Input should be a valid string', 'input': x}"
    )
    server.plan("invalid-500", Fail(500, said, error_type="internal_server_error"))
    done = await run_job(llama_stack, "chat", {"prompt": "invalid-500: hello"})
    assert done.statuses == ["running", "failed"]
    assert done.job["attempts"] == 1
    assert len(server.seen("invalid-500")) == 1
    message = done.job["error"]["message"]
    # The key is `x`: only the `x` standing alone is redacted, not those in the words.
    assert "'type': 'string_type'" in message
    assert "'msg': 'Input should be a valid string', 'input': [redacted]}" in message


async def test_a_real_server_error_is_still_retried(
    server: OpenAIServer, llama_stack: Stack
) -> None:
    server.plan("flaky-500", Fail(500, "CUDA error: out of memory"), Stream("Fine now."))
    done = await run_job(llama_stack, "chat", {"prompt": "flaky-500: hello"})
    assert done.statuses == ["running", "retrying", "running", "completed"]
    assert done.job["result"]["text"] == "Fine now."
