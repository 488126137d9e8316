"""Provider limits across two worker processes, against a loopback model server that
counts tokens per window as OpenAI does and answers 429 + Retry-After over its limit.

The window is 2 s instead of a minute (JOBCAST_LIMIT_WINDOW), so a test takes seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.follow import Finished, run_job
from tests.e2e.stacks import loopback_model, start_own_stack
from tests.openai_server import OpenAIServer, Stream
from tests.stack import Stack

WINDOW_S = 2.0
SERVER_TOKENS = 200  # per window: 6000 a minute
# jobcast's limit 10 % below the server's, in tokens per minute.
JOBCAST_TPM = int(SERVER_TOKENS * 0.9 * 60 / WINDOW_S)
# Each call: a prompt of 7 words and a reply of 15, so 22 tokens as the server counts them.
REPLY = "The keeper lit the lamp and the ships came home safely through the fog tonight."
RETRY_AFTER_S = 1.0
WAITING = ("Waiting for model capacity", "waiting_for_model")


@pytest.fixture(scope="module")
def limited_stack(
    server: OpenAIServer, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        **loopback_model(server, "loop-limited", key="sk-limits-Loopback-0123456789"),
        "JOBCAST_LIMITS": f"openai:loop-limited=tpm:{JOBCAST_TPM},reply:40",
        "JOBCAST_LIMIT_WINDOW": str(WINDOW_S),
    }
    root = Path(tmp_path_factory.mktemp("limits-stack"))
    running = start_own_stack("limits", redis_url, namespace, root, env, processes=2)
    yield running
    running.stop()


async def run_jobs(stack: Stack, server: OpenAIServer, marker: str, count: int) -> list[Finished]:
    for n in range(count):
        server.plan(f"{marker}-{n}:", Stream(REPLY, delay=0.02))
    prompts = [f"{marker}-{n}: tell me about the lighthouse keeper" for n in range(count)]
    return await asyncio.gather(*(run_job(stack, "chat", {"prompt": p}) for p in prompts))


def workers_that_ran(stack: Stack, jobs: list[Finished]) -> set[str]:
    """The worker processes that claimed these jobs, from their lifecycle log lines."""
    ids = {f"job_id={d.job['id']} " for d in jobs}
    lines = (stack.logs / "worker.log").read_text().splitlines()
    claims = [line for line in lines if "event=claimed" in line and any(i in line for i in ids)]
    return {line.split(" worker=")[1].split()[0] for line in claims}


def shown(done: Finished) -> list[tuple[str, str]]:
    return [(e["message"], e["stage"]) for e in done.progress]


async def test_with_limits_below_the_servers_no_call_is_refused_and_waiting_jobs_say_so(
    server: OpenAIServer, limited_stack: Stack
) -> None:
    server.limit_tokens(SERVER_TOKENS, window=WINDOW_S, retry_after=RETRY_AFTER_S)
    jobs = await run_jobs(limited_stack, server, "under", 12)  # 264 tokens: over a window
    assert [d.job["status"] for d in jobs] == ["completed"] * 12
    assert [d.job["attempts"] for d in jobs] == [1] * 12
    assert len(workers_that_ran(limited_stack, jobs)) == 2
    seen = server.seen("under-")
    assert len(seen) == 12
    assert [r for r in seen if r.rate_limited] == []
    waited = [d for d in jobs if WAITING in shown(d)]
    assert waited, "no job had to wait: the test no longer crosses the limit"
    for done in waited:  # the waiting shows, then the stage it had before comes back
        steps = shown(done)
        assert steps[steps.index(WAITING) + 1] == ("Asking the model…", "answer")
        assert done.job["stage"] == "answer"


async def test_a_server_limit_lowered_at_run_time_pauses_every_worker_and_no_job_fails(
    server: OpenAIServer, limited_stack: Stack
) -> None:
    server.limit_tokens(60, window=WINDOW_S, retry_after=RETRY_AFTER_S)  # below jobcast's
    try:
        # More jobs than one process has threads, so both worker processes must take some.
        jobs = await run_jobs(limited_stack, server, "lowered", 12)
    finally:
        server.limit_tokens(SERVER_TOKENS, window=WINDOW_S, retry_after=RETRY_AFTER_S)
    assert [d.job["status"] for d in jobs] == ["completed"] * 12
    assert [d.job["attempts"] for d in jobs] == [1] * 12  # the 429s cost no attempt
    assert len(workers_that_ran(limited_stack, jobs)) == 2
    seen = server.seen("lowered-")
    refused = [r for r in seen if r.rate_limited]
    assert refused, "the server never refused: the test no longer crosses its limit"
    # After a 429 no worker sends anything until its Retry-After has passed (those that
    # were already on their way when it came may still arrive just after it).
    first = refused[0].at
    during = [r for r in seen if first + 0.2 < r.at < first + RETRY_AFTER_S * 0.95]
    assert during == []
    assert any(WAITING in shown(d) for d in jobs)
