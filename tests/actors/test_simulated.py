"""The simulated provider: deterministic text, paced like a real stream."""

from __future__ import annotations

import asyncio

from actors.providers.base import Message
from actors.providers.simulated import SimulatedProvider, simulated_text

MESSAGES: list[Message] = [{"role": "user", "content": "Name a lighthouse"}]


async def collect(provider: SimulatedProvider, messages: list[Message]) -> list[str]:
    reply = provider.stream(messages, "simulated-1")
    return [delta async for delta in reply]


async def test_the_same_messages_give_the_same_text() -> None:
    provider = SimulatedProvider(ttft=0, tps=10_000)
    first = await collect(provider, MESSAGES)
    second = await collect(provider, MESSAGES)
    other = await collect(provider, [{"role": "user", "content": "Something else"}])
    assert "".join(first) == "".join(second) == simulated_text(MESSAGES, "simulated-1")
    assert "".join(other) != "".join(first)
    assert len(first) > 10


async def test_usage_counts_the_streamed_tokens() -> None:
    reply = SimulatedProvider(ttft=0, tps=10_000).stream(MESSAGES, "simulated-1")
    tokens = [delta async for delta in reply]
    assert reply.usage.completion_tokens == len(tokens)
    assert reply.usage.prompt_tokens == 3


async def test_time_to_first_token_and_rate_are_honoured() -> None:
    provider = SimulatedProvider(ttft=0.2, tps=100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    stamps = [loop.time() - started async for _ in provider.stream(MESSAGES, "m")]
    assert stamps[0] >= 0.2
    # n tokens after the first take (n - 1) / tps seconds at least.
    assert stamps[-1] - stamps[0] >= (len(stamps) - 1) / 100 - 0.01
