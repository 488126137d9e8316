"""A deterministic stand-in for a model, for demos, tests and benchmarks.

The same messages give the same text every time; tokens arrive after `ttft` seconds and
then at `tps` tokens per second, as a real server streams them.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncGenerator

from actors.providers.base import Message, Provider, Reply, Usage

_TEXT = (
    "the lantern keeper remembers every storm that crossed the northern sea and "
    "writes each one into a ledger of salt stained pages while apprentices argue about "
    "whether the tide obeys the moon or the old songs sung in the harbour taverns at dusk "
    "a quiet answer often carries further than a loud one and patience turns rough stone "
    "into steps that climb toward the light"
)
_WORDS = tuple(_TEXT.split())


def _rng(messages: list[Message], model: str) -> random.Random:
    digest = hashlib.sha256(repr((messages, model)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def simulated_text(messages: list[Message], model: str) -> str:
    """The reply the simulated model gives to these messages."""
    rng = _rng(messages, model)
    prompt = messages[-1]["content"].strip().replace("\n", " ") if messages else ""
    sentences = []
    for _ in range(rng.randint(3, 5)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
        sentences.append(" ".join(words).capitalize() + ".")
    return f"(simulated reply to “{prompt[:80]}”) " + " ".join(sentences)


def _tokens(text: str) -> list[str]:
    """Split into word-sized tokens that concatenate back to `text` exactly."""
    pieces = text.split(" ")
    return [piece + " " for piece in pieces[:-1]] + [pieces[-1]]


class SimulatedProvider(Provider):
    name = "simulated"
    default_model = "simulated-1"

    def __init__(self, ttft: float, tps: float) -> None:
        self.ttft = ttft
        self.tps = tps

    def stream(self, messages: list[Message], model: str) -> Reply:
        usage = Usage(prompt_tokens=sum(len(m["content"].split()) for m in messages))
        return Reply(self._deltas(messages, model, usage), usage)

    async def _deltas(
        self, messages: list[Message], model: str, usage: Usage
    ) -> AsyncGenerator[str, None]:
        await asyncio.sleep(self.ttft)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for index, token in enumerate(_tokens(simulated_text(messages, model))):
            # Pace against the clock, not per token, so sleeps do not drift.
            delay = started + index / self.tps - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            usage.completion_tokens += 1
            yield token
