"""A deterministic stand-in for a model, for demos, tests and benchmarks.

The same messages, model and seed give the same reply every time: prose, or JSON valid
for the requested schema, streamed in word-sized tokens after `ttft` seconds at `tps`
tokens per second; the tokens due since the last wake-up arrive together, as one delta.
With `fail_rate` > 0 some calls fail as a real server's would (rate limited, a server
error, a rejected request), decided from the seed too: the n-th time this process is
asked the same thing draws the same outcome, so a given seed fails the same calls, and a
repeated call draws again, as from a flaky server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Literal

from actors.pipeline.errors import LLMError, ProviderBusy
from actors.pipeline.output import DEFAULT_INTERVAL
from actors.pipeline.structured import Schema
from actors.providers.base import Message, Provider, Reply, Usage
from actors.providers.sample_json import WORDS, sample

FailKind = Literal["rate_limit", "server_error", "bad_request"]
# What an injected rate limit asks the client to wait, as a server's Retry-After would.
RATE_LIMIT_RETRY_AFTER_S = 1.0
# How many distinct requests the failure draw remembers (to number repeated calls).
REMEMBERED_REQUESTS = 10_000
# How often a streaming reply wakes up to hand over the tokens due: the coalescing
# interval, so the output events a job sends are as many and as timely as with one
# wake-up per token, at a fraction of the loop's work (docs/PERFORMANCE.md, S6).
TICK_S = DEFAULT_INTERVAL


@dataclass(frozen=True)
class Failures:
    rate: float = 0.0
    kind: FailKind = "server_error"

    def error(self) -> LLMError:
        if self.kind == "rate_limit":
            return ProviderBusy(
                "simulated model answered 429: rate limited",
                transient=True,
                retry_after=RATE_LIMIT_RETRY_AFTER_S,
            )
        if self.kind == "bad_request":
            return LLMError("simulated model answered 400: request rejected")
        return LLMError("simulated model answered 500: server error", transient=True)


def simulated_text(
    messages: list[Message], model: str, seed: int = 0, tokens: int | None = None
) -> str:
    """The prose the simulated model writes for these messages."""
    rng = _rng(seed, messages, model)
    prompt = messages[-1]["content"].strip().replace("\n", " ") if messages else ""
    text = f"(simulated reply to “{prompt[:80]}”)"
    sentences = rng.randint(3, 5) if tokens is None else tokens // 8 + 1  # enough words
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        text += " " + " ".join(words).capitalize() + "."
    if tokens is None:
        return text
    return "".join(split_tokens(text)[:tokens]).rstrip()


def simulated_json(messages: list[Message], model: str, schema: Schema[Any], seed: int = 0) -> str:
    """The JSON the simulated model answers with when asked for `schema`."""
    value = sample(schema.json_schema, _rng(seed, messages, model, schema.json_schema))
    return json.dumps(value, ensure_ascii=False)


def split_tokens(text: str) -> list[str]:
    """Word-sized tokens that concatenate back to `text` exactly."""
    pieces = text.split(" ")
    return [piece + " " for piece in pieces[:-1]] + [pieces[-1]]


def _rng(seed: int, *parts: Any) -> random.Random:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class SimulatedProvider(Provider):
    name = "simulated"
    default_model = "simulated-1"

    def __init__(
        self,
        ttft: float,
        tps: float,
        *,
        seed: int = 0,
        tokens: int | None = None,
        failures: Failures | None = None,
        tick: float = TICK_S,
    ) -> None:
        self.ttft = ttft
        self.tps = tps
        self.tick = tick
        self.seed = seed
        self.tokens = tokens
        self.failures = failures or Failures()
        self._asked: OrderedDict[str, int] = OrderedDict()

    def stream(
        self, messages: list[Message], model: str, schema: Schema[Any] | None = None
    ) -> Reply:
        usage = Usage(prompt_tokens=sum(len(m["content"].split()) for m in messages))
        fails = self._draw_failure(messages, model, schema)
        if schema is not None:
            text = simulated_json(messages, model, schema, self.seed)
            usage.json_mode = "json_schema"  # valid for the schema, as a constrained server
        else:
            text = simulated_text(messages, model, self.seed, self.tokens)
        return Reply(self._deltas(text, usage, fails), usage)

    def _draw_failure(
        self, messages: list[Message], model: str, schema: Schema[Any] | None
    ) -> LLMError | None:
        if not self.failures.rate:
            return None
        request = repr((messages, model, schema and schema.json_schema))
        key = hashlib.sha256(request.encode()).hexdigest()
        asked = self._asked.pop(key, 0)
        self._asked[key] = asked + 1
        while len(self._asked) > REMEMBERED_REQUESTS:
            self._asked.popitem(last=False)
        draw = _rng(self.seed, "fail", key, asked).random()
        return self.failures.error() if draw < self.failures.rate else None

    async def _deltas(
        self, text: str, usage: Usage, fails: LLMError | None
    ) -> AsyncGenerator[str, None]:
        if fails is not None:
            raise fails  # as a server's error status: before any token
        await asyncio.sleep(self.ttft)
        tokens = split_tokens(text)
        loop = asyncio.get_running_loop()
        started = loop.time()
        last = started + (len(tokens) - 1) / self.tps  # when the last token is due
        sent = 0
        while True:
            # Token n is due `n / tps` after the first: every token due by now goes out
            # as one delta, so the loop wakes once a tick, not once a token.
            woke = loop.time()
            # At least one: the loop may wake a hair early, and n / tps rounds down.
            due = min(len(tokens), max(sent + 1, int((woke - started) * self.tps) + 1))
            usage.completion_tokens += due - sent
            yield "".join(tokens[sent:due])
            sent = due
            if sent == len(tokens):
                return
            # Against the clock, not relative to the last wake-up, so the pace never drifts;
            # a tick later, or when the next token is due, or the last, whichever comes
            # first.
            wake = min(max(started + sent / self.tps, woke + self.tick), last)
            await asyncio.sleep(wake - loop.time())
