"""The simulated provider: deterministic text and JSON, paced like a real stream,
with failures injected at a seeded rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, Field

from actors.pipeline.errors import LLMError
from actors.pipeline.structured import schema_of
from actors.providers.base import Message
from actors.providers.simulated import (
    FailKind,
    Failures,
    SimulatedProvider,
    simulated_text,
    split_tokens,
)

MESSAGES: list[Message] = [{"role": "user", "content": "Name a lighthouse"}]


def fast(
    seed: int = 0, tokens: int | None = None, failures: Failures | None = None
) -> SimulatedProvider:
    return SimulatedProvider(ttft=0, tps=100_000, seed=seed, tokens=tokens, failures=failures)


async def collect(provider: SimulatedProvider, messages: list[Message]) -> list[str]:
    """The reply's tokens (the provider hands over all tokens due at once, as one delta)."""
    reply = provider.stream(messages, "simulated-1")
    return split_tokens("".join([delta async for delta in reply]))


async def test_the_same_messages_give_the_same_text() -> None:
    provider = fast()
    first = await collect(provider, MESSAGES)
    second = await collect(provider, MESSAGES)
    other = await collect(provider, [{"role": "user", "content": "Something else"}])
    assert "".join(first) == "".join(second) == simulated_text(MESSAGES, "simulated-1")
    assert "".join(other) != "".join(first)
    assert len(first) > 10


async def test_the_seed_changes_the_text_and_fixes_it() -> None:
    seven = "".join(await collect(fast(seed=7), MESSAGES))
    assert seven == "".join(await collect(fast(seed=7), MESSAGES))
    assert seven != "".join(await collect(fast(seed=8), MESSAGES))


async def test_usage_counts_the_streamed_tokens() -> None:
    reply = fast().stream(MESSAGES, "simulated-1")
    tokens = split_tokens("".join([delta async for delta in reply]))
    assert reply.usage.completion_tokens == len(tokens)
    assert reply.usage.prompt_tokens == 3


@pytest.mark.parametrize("tokens", [1, 7, 300])
async def test_the_reply_length_can_be_set_in_tokens(tokens: int) -> None:
    assert len(await collect(fast(tokens=tokens), MESSAGES)) == tokens


async def test_time_to_first_token_and_rate_are_honoured() -> None:
    provider = SimulatedProvider(ttft=0.2, tps=100, tick=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    arrived: list[tuple[float, int]] = []  # (seconds since the call, tokens so far)
    reply = provider.stream(MESSAGES, "m")
    async for _ in reply:
        arrived.append((loop.time() - started, reply.usage.completion_tokens))
    first = arrived[0][0]
    assert first >= 0.2
    # Never ahead of the model's pace: n tokens take (n - 1) / tps seconds at least.
    for seconds, tokens in arrived:
        assert tokens - 1 <= (seconds - first) * 100 + 1e-6
    # All tokens due at a wake-up come together: one delta a tick, not one a token.
    total = arrived[-1][1]
    assert total > 30
    assert len(arrived) <= (total / 100) / 0.05 + 2


class Ship(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    crew: int = Field(ge=3, le=12)
    ports: list[str] = Field(min_length=2, max_length=4)


async def test_asked_for_a_schema_it_streams_valid_json() -> None:
    provider = fast()
    spec = schema_of(Ship)
    first = split_tokens("".join([d async for d in provider.stream(MESSAGES, "m", spec)]))
    again = split_tokens("".join([d async for d in provider.stream(MESSAGES, "m", spec)]))
    assert len(first) > 5
    assert first == again
    ship = spec.parse("".join(first))
    assert 3 <= ship.crew <= 12
    assert 2 <= len(ship.ports) <= 4


def failing_calls(provider: SimulatedProvider, calls: int) -> list[int]:
    failed = []
    for n in range(calls):
        reply = provider.stream([{"role": "user", "content": f"call {n}"}], "m")
        try:
            asyncio.run(_drain(reply.deltas))
        except LLMError:
            failed.append(n)
    return failed


async def _drain(deltas: AsyncIterator[str]) -> None:
    async for _ in deltas:
        pass


def test_injected_failures_follow_the_rate_and_the_seed() -> None:
    failures = Failures(rate=0.25, kind="server_error")
    first = failing_calls(fast(seed=3, failures=failures), 200)
    assert first == failing_calls(fast(seed=3, failures=failures), 200)
    assert first != failing_calls(fast(seed=4, failures=failures), 200)
    assert 25 <= len(first) <= 75  # 50 expected
    assert failing_calls(fast(seed=3, failures=Failures(rate=1.0)), 20) == list(range(20))
    assert failing_calls(fast(seed=3), 20) == []


async def test_a_repeated_call_draws_again_as_from_a_flaky_server() -> None:
    provider = fast(seed=1, failures=Failures(rate=0.5))
    outcomes = []
    for _ in range(40):
        try:
            await collect(provider, MESSAGES)
            outcomes.append("ok")
        except LLMError:
            outcomes.append("failed")
    assert {"ok", "failed"} == set(outcomes)


@pytest.mark.parametrize(
    ("kind", "transient", "retry_after", "status"),
    [
        ("rate_limit", True, 1.0, "429"),
        ("server_error", True, None, "500"),
        ("bad_request", False, None, "400"),
    ],
)
async def test_each_kind_of_injected_failure_is_classified_like_a_servers(
    kind: FailKind, transient: bool, retry_after: float | None, status: str
) -> None:
    provider = fast(failures=Failures(rate=1.0, kind=kind))
    with pytest.raises(LLMError) as raised:
        await collect(provider, MESSAGES)
    assert raised.value.transient is transient
    assert raised.value.retry_after == retry_after
    assert status in raised.value.message
