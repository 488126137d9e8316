"""A model's capacity in the test Redis: rpm and tpm shared by every caller, tokens given
back when a call settles, a 429's pause, and a 429'd call sent again by `ctx.llm`."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis as AsyncRedis

from actors.pipeline.capacity import Capacity
from actors.pipeline.llm import LLM, LLMSetup, ModelTiers
from actors.pipeline.output import OutputStream
from actors.pipeline.usage import UsageTotals
from actors.providers.base import Message, Usage
from actors.providers.openai import OpenAIProvider
from store.keys import Keys
from store.model_limits import ModelLimits
from tests.openai_server import Fail, OpenAIServer, Stream

MESSAGES: list[Message] = [{"role": "user", "content": "Describe the ship Albatross"}]
WINDOW_S = 1.0


class Shown:
    """What a job would show: each time a call starts or stops waiting."""

    def __init__(self) -> None:
        self.changes: list[bool] = []
        self.waits = asyncio.Event()

    async def __call__(self, waiting: bool) -> None:
        self.changes.append(waiting)
        if waiting:
            self.waits.set()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[AsyncRedis]:
    client = AsyncRedis.from_url(redis_url)
    yield client
    await client.aclose()


def capacity(redis: AsyncRedis, namespace: str, **limits: ModelLimits) -> Capacity:
    # A namespace per test: each starts with empty logs.
    keys = Keys(f"{namespace}:capacity-{uuid.uuid4().hex[:8]}")
    return Capacity(redis, keys, "openai", limits, window_s=WINDOW_S)


async def test_requests_over_the_rpm_wait_for_the_window_and_say_so(
    redis: AsyncRedis, namespace: str
) -> None:
    # 180 a minute is 3 in the one-second window.
    cap = capacity(redis, namespace, m=ModelLimits(rpm=180))
    started = time.monotonic()
    for _ in range(3):
        await cap.reserve("m", MESSAGES, Shown())
    assert time.monotonic() - started < WINDOW_S / 2
    shown = Shown()
    await cap.reserve("m", MESSAGES, shown)
    assert time.monotonic() - started >= WINDOW_S * 0.95
    assert shown.changes == [True, False]


async def test_a_settled_call_gives_back_the_tokens_it_did_not_use(
    redis: AsyncRedis, namespace: str
) -> None:
    # 6000 tokens a minute is 100 in the window; each call reserves its prompt + 60.
    cap = capacity(redis, namespace, m=ModelLimits(tpm=6000, reply=60))
    first = await cap.reserve("m", MESSAGES, Shown())
    shown = Shown()
    second = asyncio.create_task(cap.reserve("m", MESSAGES, shown))
    await shown.waits.wait()  # no room for it
    settled_at = time.monotonic()
    await first.settle(Usage(prompt_tokens=7, completion_tokens=3))
    await second
    assert time.monotonic() - settled_at < WINDOW_S / 2  # not a whole window later


async def test_a_pause_holds_back_that_model_only(redis: AsyncRedis, namespace: str) -> None:
    cap = capacity(redis, namespace)
    await cap.pause("m", 0.5)
    started = time.monotonic()
    await cap.reserve("other", MESSAGES, Shown())  # no limits, not paused
    assert time.monotonic() - started < 0.25
    shown = Shown()
    await cap.reserve("m", MESSAGES, shown)
    assert time.monotonic() - started >= 0.45
    assert shown.changes == [True, False]


async def test_limits_are_shared_by_every_worker_process_s_client(
    redis_url: str, namespace: str
) -> None:
    keys = Keys(f"{namespace}:capacity-{uuid.uuid4().hex[:8]}")
    clients = [AsyncRedis.from_url(redis_url) for _ in range(2)]
    limits = {"m": ModelLimits(rpm=120)}  # 2 in the window
    caps = [Capacity(c, keys, "openai", limits, window_s=WINDOW_S) for c in clients]
    try:
        started = time.monotonic()
        await caps[0].reserve("m", MESSAGES, Shown())
        await caps[1].reserve("m", MESSAGES, Shown())
        await caps[1].reserve("m", MESSAGES, Shown())
        assert time.monotonic() - started >= WINDOW_S * 0.95
    finally:
        for client in clients:
            await client.aclose()


async def test_a_429_pauses_the_model_and_the_call_is_sent_again_once_it_is_over(
    redis: AsyncRedis, namespace: str, server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.plan("Albatross", Fail(429, "slow down", {"Retry-After": "0.5"}), Stream("a b c"))
    tiers = ModelTiers(default="loop-default", small="loop-default", large="loop-default")
    setup = LLMSetup(provider, tiers, capacity=capacity(redis, namespace))
    shown: list[tuple[bool, str]] = []

    async def waiting(now_waiting: bool, stage: str) -> None:
        shown.append((now_waiting, stage))

    async def publish(chunk: str) -> None:
        pass

    llm = LLM(setup, UsageTotals("openai"), lambda _: OutputStream(publish), waiting)
    assert await llm.text(MESSAGES, stage="describe") == "a b c"
    refused, sent_again = server.seen("Albatross")
    assert sent_again.at - refused.at >= 0.45
    assert shown == [(True, "describe"), (False, "describe")]
