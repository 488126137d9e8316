"""`JobContext`: everything a pipeline uses to report and to call the model."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actors.output import OutputStream
from actors.providers.base import Message, Provider
from store.reporter import Reporter


@dataclass
class UsageTotals:
    provider: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_calls: int = 0
    llm_seconds: float = 0.0
    counted: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "provider": self.provider,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "llm_calls": self.llm_calls,
            "llm_seconds": round(self.llm_seconds, 3),
        }
        if self.counted:
            data["tokens_counted_locally"] = True
        return data


@dataclass
class LLM:
    """Model calls made on behalf of one job; usage adds up in `totals`."""

    provider: Provider
    model: str
    totals: UsageTotals
    open_stream: Callable[[str], OutputStream] = field(repr=False)

    async def stream_text(
        self, messages: list[Message], *, stage: str, model: str | None = None
    ) -> str:
        """Run a chat completion, streaming its text to clients as `output` of `stage`."""
        reply = self.provider.stream(messages, model or self.model)
        started = time.monotonic()
        try:
            async with self.open_stream(stage) as out:
                async for delta in reply:
                    await out.write(delta)
        finally:
            await reply.deltas.aclose()  # closes the model request if it is still open
            self.totals.llm_calls += 1
            self.totals.llm_seconds += time.monotonic() - started
            self.totals.prompt_tokens += reply.usage.prompt_tokens
            self.totals.completion_tokens += reply.usage.completion_tokens
            self.totals.counted |= reply.usage.counted
        return out.text


class JobContext:
    def __init__(
        self, job_id: str, attempt: int, reporter: Reporter, provider: Provider, model: str
    ) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self._reporter = reporter
        self.usage = UsageTotals(provider=provider.name)
        self.llm = LLM(provider, model, self.usage, open_stream=self.stream)
        self.stopped = threading.Event()  # set when the attempt is cancelled or handed back

    def check_cancelled(self) -> None:
        """For long steps that do not await: stop here if the attempt was stopped."""
        if self.stopped.is_set():
            raise asyncio.CancelledError

    async def progress(
        self, pct: float, message: str | None = None, stage: str | None = None
    ) -> None:
        """Report progress (0–100, never lower than before) with a message and stage."""
        await asyncio.to_thread(self._reporter.progress, pct, message, stage)

    def stream(self, stage: str) -> OutputStream:
        """Text written here reaches clients as `output` events of `stage`, coalesced."""

        async def publish(chunk: str) -> None:
            await asyncio.to_thread(self._reporter.output, stage, chunk)

        return OutputStream(publish)

    async def finish_reporting(self) -> None:
        """Copy the last progress to the database row."""
        await asyncio.to_thread(self._reporter.persist)
