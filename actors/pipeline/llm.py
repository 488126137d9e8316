"""`ctx.llm`: the model calls a pipeline makes, each recorded under its stage.

    text = await ctx.llm.text(messages, stage="backstory")             # whole reply
    text = await ctx.llm.stream_text(messages, stage="answer")         # also `output` events
    plan = await ctx.llm.json(messages, Plan, stage="plan", tier="small")  # checked JSON

There are no retries here: a failed call raises `LLMError` (transient or not) and the
job attempt is the one retry layer, except for a 429 (`ProviderBusy`): the model is
paused for every worker and the call waits for capacity and is sent again (capacity.py).
The one second chance is for structured output: an answer that fails its schema is sent
back once with the validation error (`InvalidOutput` when the second answer fails too).
A number outside its bounds is moved to the nearest bound instead (servers' grammars do
not always bound numbers).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel

from actors.metrics import Call
from actors.pipeline.capacity import Capacity
from actors.pipeline.checkpoints import count_call
from actors.pipeline.errors import InvalidOutput, ProviderBusy
from actors.pipeline.meter import Meter
from actors.pipeline.output import OutputStream
from actors.pipeline.structured import (
    Schema,
    SchemaMismatch,
    repair_messages,
    schema_of,
    with_instructions,
)
from actors.pipeline.usage import UsageTotals
from actors.providers.base import Message, Provider, Usage
from store.prices import NO_PRICES, Prices

Tier = Literal["default", "small", "large"]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class ModelTiers:
    """Model names by tier: quick steps run on `small`, demanding ones on `large`."""

    default: str
    small: str
    large: str

    def pick(self, tier: Tier) -> str:
        model: str = getattr(self, tier)
        return model


@dataclass(frozen=True)
class LLMSetup:
    """What a worker gives every job for its model calls."""

    provider: Provider
    models: ModelTiers
    concurrency: int = 4  # fan_out's default: parallel model calls per job
    capacity: Capacity | None = None  # rpm/tpm limits and 429 pauses shared via Redis
    prices: Prices = NO_PRICES  # what each call costs (JOBCAST_PRICES)


class LLM:
    def __init__(
        self,
        setup: LLMSetup,
        usage: UsageTotals,
        open_stream: Callable[[str], OutputStream],
        waiting: Callable[[bool, str], Awaitable[None]] | None = None,
    ) -> None:
        self.provider = setup.provider
        self.models = setup.models
        self.usage = usage
        self._open_stream = open_stream
        self.capacity = setup.capacity
        self._waiting = waiting or _not_shown
        self.prices = setup.prices
        # Set by the worker: ledgers each call and stops one that crosses the budget.
        self.meter: Meter | None = None

    async def text(
        self,
        messages: list[Message],
        *,
        stage: str,
        tier: Tier = "default",
        schema: Schema[Any] | None = None,
    ) -> str:
        """The model's whole reply (streamed from the server, but not to clients).

        With `schema`, the model is asked for JSON valid for it (in the prompt, and in the
        request where the server supports it); `checked()` parses and checks the answer.
        """
        return await self._call(messages, stage, tier, schema, None)

    async def stream_text(
        self,
        messages: list[Message],
        *,
        stage: str,
        tier: Tier = "default",
        schema: Schema[Any] | None = None,
    ) -> str:
        """The model's reply, written to clients as `output` events of `stage` as it comes."""
        async with self._open_stream(stage) as out:
            return await self._call(messages, stage, tier, schema, out)

    @overload
    async def json(
        self,
        messages: list[Message],
        schema: type[M],
        *,
        stage: str,
        tier: Tier = ...,
        stream: bool = ...,
    ) -> M: ...
    @overload
    async def json(
        self,
        messages: list[Message],
        schema: dict[str, Any],
        *,
        stage: str,
        tier: Tier = ...,
        stream: bool = ...,
    ) -> Any: ...
    async def json(
        self,
        messages: list[Message],
        schema: type[BaseModel] | dict[str, Any],
        *,
        stage: str,
        tier: Tier = "default",
        stream: bool = False,
    ) -> Any:
        """An answer valid for `schema` (a pydantic model's instance, or the checked JSON)."""
        spec = schema_of(schema)
        call = self.stream_text if stream else self.text
        answer = await call(messages, stage=stage, tier=tier, schema=spec)
        return await self.checked(answer, spec, messages, stage=stage, tier=tier)

    async def checked(
        self,
        answer: str,
        spec: Schema[T],
        messages: list[Message],
        *,
        stage: str,
        tier: Tier = "default",
    ) -> T:
        """`answer` parsed and checked against `spec`; numbers out of bounds are clamped,
        anything else wrong costs one repair round.

        `messages` are those that produced `answer` (asked with `schema=spec`).
        """
        try:
            value = spec.parse(answer)
        except SchemaMismatch as first:
            problem = str(first)
        else:
            self.usage.answered(stage, "first")
            return value
        with contextlib.suppress(SchemaMismatch):
            value = spec.parse_clamped(answer)
            self.usage.answered(stage, "clamped")
            return value
        repaired = await self.text(
            repair_messages(messages, answer, problem), stage=stage, tier=tier, schema=spec
        )
        try:
            value = spec.parse_clamped(repaired)
        except SchemaMismatch as second:
            raise InvalidOutput(
                f"{stage}: the model's answer did not match the {spec.name} schema, "
                f"also after one repair round: {second}"
            ) from None
        self.usage.answered(stage, "repaired")
        return value

    async def _call(
        self,
        messages: list[Message],
        stage: str,
        tier: Tier,
        schema: Schema[Any] | None,
        out: OutputStream | None,
    ) -> str:
        model = self.models.pick(tier)
        if schema is not None:
            messages = with_instructions(messages, schema)
        if self.capacity is None:
            return await self._send(messages, stage, model, schema, out)
        while True:
            waiting = functools.partial(_show_waiting, self._waiting, stage)
            ticket = await self.capacity.reserve(model, messages, waiting)
            try:
                return await self._send(messages, stage, model, schema, out, ticket.settle)
            except ProviderBusy as busy:  # refused before any output: wait, send again
                await self.capacity.pause(model, busy.retry_after)

    async def _send(
        self,
        messages: list[Message],
        stage: str,
        model: str,
        schema: Schema[Any] | None,
        out: OutputStream | None,
        settle: Callable[[Usage], Awaitable[None]] | None = None,
    ) -> str:
        reply = self.provider.stream(messages, model, schema)
        started = time.monotonic()
        call = Call(model, stage)  # its histograms and span: observed once, at its end
        parts: list[str] = []
        try:
            # Per delta, not per token: a delta may carry many (providers batch what
            # arrived together). Keep this loop lean; measure per call, below.
            async for delta in reply:
                if not parts:
                    call.first_token()
                parts.append(delta)
                if out is not None:
                    await out.write(delta)
                if self.meter is not None:
                    await self.meter.tick(model, reply.usage)
        finally:
            # The call's end: once-per-call observations (time to first token, tokens/s)
            # belong here, never in the loop above.
            await reply.aclose()  # closes the model request if it is still open
            call.ended(reply.usage)
            cost = self.prices.cost(model, reply.usage.prompt_tokens, reply.usage.completion_tokens)
            self.usage.record(stage, model, reply.usage, time.monotonic() - started, cost)
            count_call()
            if settle is not None:
                await settle(reply.usage)
            if self.meter is not None:
                await self.meter.settle(stage, model, reply.usage, cost)
        return "".join(parts)


async def _not_shown(waiting: bool, stage: str) -> None:
    pass


async def _show_waiting(
    show: Callable[[bool, str], Awaitable[None]], stage: str, waiting: bool
) -> None:
    await show(waiting, stage)
