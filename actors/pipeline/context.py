"""`JobContext`: everything a pipeline uses to report and to call the model.

    await ctx.progress(20, "Outline ready", "outline")      # a `progress` event
    async with ctx.stream("answer") as out: ...            # `output` events
    await ctx.llm.json(messages, Model, stage="plan")      # model calls (pipeline/llm.py)
    done = await ctx.fan_out(items, fn, span=(20, 90))     # parallel items, one progress bar

It is a thin facade: the work is done in `llm.py`, `fanout.py`, `output.py`, `usage.py`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from actors.pipeline.fanout import FanOutResult, ItemProgress, fan_out
from actors.pipeline.llm import LLM, LLMSetup
from actors.pipeline.output import OutputStream
from actors.pipeline.usage import UsageTotals
from store.reporter import Reporter

T = TypeVar("T")
R = TypeVar("R")


class JobContext:
    def __init__(self, job_id: str, attempt: int, reporter: Reporter, setup: LLMSetup) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self._reporter = reporter
        self._setup = setup
        # Parallel items report from many tasks: one at a time, so progress stays in order.
        self._progress_lock = asyncio.Lock()
        self.usage = UsageTotals(provider=setup.provider.name)
        self.llm = LLM(setup, self.usage, open_stream=self.stream)
        self.stopped = threading.Event()  # set when the attempt is cancelled or handed back

    def check_cancelled(self) -> None:
        """For long steps that do not await: stop here if the attempt was stopped."""
        if self.stopped.is_set():
            raise asyncio.CancelledError

    async def progress(
        self, pct: float, message: str | None = None, stage: str | None = None
    ) -> None:
        """Report progress (0–100, never lower than before) with a message and stage."""
        async with self._progress_lock:
            await self._reporter.progress(pct, message, stage)

    def stream(self, stage: str) -> OutputStream:
        """Text written here reaches clients as `output` events of `stage`, coalesced."""

        async def publish(chunk: str) -> None:
            await self._reporter.output(stage, chunk)

        return OutputStream(publish)

    async def fan_out(
        self,
        items: Sequence[T],
        fn: Callable[[T, ItemProgress], Awaitable[R]],
        *,
        span: tuple[float, float],
        steps: int = 1,
        concurrency: int | None = None,
        label: Callable[[int, T], str] = lambda index, _: f"item {index + 1}",
    ) -> FanOutResult[R]:
        """Run `fn(item, progress)` per item in parallel; progress moves through `span`.

        `concurrency` defaults to the worker's JOBCAST_LLM_CONCURRENCY. See `fanout.py`.
        """
        return await fan_out(
            items,
            fn,
            report=self.progress,
            span=span,
            steps=steps,
            concurrency=concurrency or self._setup.concurrency,
            label=label,
        )

    async def finish_reporting(self) -> None:
        """Copy the last progress to the database row."""
        await self._reporter.persist()
