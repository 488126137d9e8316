"""`JobContext`: everything a pipeline uses to report and to call the model.

    await ctx.progress(20, "Outline ready", "outline")      # a `progress` event
    async with ctx.stream("answer") as out: ...            # `output` events
    await ctx.llm.json(messages, Model, stage="plan")      # model calls (pipeline/llm.py)
    done = await ctx.fan_out(items, fn, span=(20, 90))     # parallel items, one progress bar
    brief = await ctx.checkpoint("brief", lambda: ...)     # saved; reused by later attempts
    await ctx.save_rows(MyRow, rows)                       # results that outlive the job

It is a thin facade: the work is done in `llm.py`, `fanout.py`, `output.py`, `usage.py`,
`checkpoints.py`, `results.py`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

from actors.pipeline.checkpoints import Checkpoints
from actors.pipeline.fanout import FanOutResult, ItemProgress, fan_out
from actors.pipeline.llm import LLM, LLMSetup
from actors.pipeline.output import OutputStream
from actors.pipeline.results import Rows, RowWriter, SaveStage, not_writable
from actors.pipeline.usage import UsageTotals
from store.reporter import Reporter

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
# What a job shows while its provider has no capacity for its model call (capacity.py).
WAITING_MESSAGE, WAITING_STAGE = "Waiting for model capacity", "waiting_for_model"


class JobContext:
    def __init__(
        self,
        job_id: str,
        attempt: int,
        reporter: Reporter,
        setup: LLMSetup,
        checkpoints: Checkpoints | None = None,
        rows: RowWriter = not_writable,
    ) -> None:
        self.job_id = job_id
        self._rows = rows
        self.checkpoints = checkpoints or Checkpoints()
        self.attempt = attempt
        self._reporter = reporter
        self._setup = setup
        # Parallel items report from many tasks: one at a time, so progress stays in order.
        self._progress_lock = asyncio.Lock()
        self.usage = UsageTotals(provider=setup.provider.name)
        self.llm = LLM(setup, self.usage, open_stream=self.stream, waiting=self._waiting)
        self._waiters = 0  # model calls of this job waiting for capacity
        self._before_wait: tuple[str | None, str | None] = (None, None)
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

    async def _waiting(self, waiting: bool, stage: str) -> None:
        """Show the job waiting for its model while any of its calls waits, then the
        message and stage it had before (the waiting call's `stage` if it had none)."""
        self._waiters += 1 if waiting else -1
        async with self._progress_lock:
            shown = (self._reporter.message, self._reporter.stage)
            pct = self._reporter.progress_value
            if waiting and self._waiters == 1:
                self._before_wait = shown
                await self._reporter.progress(pct, WAITING_MESSAGE, WAITING_STAGE)
            elif not waiting and self._waiters == 0 and shown[1] == WAITING_STAGE:
                message, before = self._before_wait
                await self._reporter.progress(pct, message, before or stage)

    def stream(self, stage: str) -> OutputStream:
        """Text written here reaches clients as `output` events of `stage`, coalesced."""

        async def publish(chunk: str) -> None:
            await self._reporter.output(stage, chunk)

        return OutputStream(publish)

    async def checkpoint(self, key: str, step: Callable[[], Awaitable[T]]) -> T:
        """`step()`'s output, saved under `key`; a later attempt gets the saved output
        without running the step (its model calls count in `usage.reused_calls`)."""
        try:
            return await self.checkpoints.run(key, step)
        finally:
            self.usage.reused_calls = self.checkpoints.reused_calls

    async def checkpoint_model(
        self, key: str, schema: type[M], step: Callable[[], Awaitable[M]]
    ) -> M:
        """`checkpoint` for a step whose output is a pydantic model (saved as its JSON)."""

        async def dumped() -> dict[str, Any]:
            return (await step()).model_dump(mode="json")

        return schema.model_validate(await self.checkpoint(key, dumped))

    async def fan_out(
        self,
        items: Sequence[T],
        fn: Callable[[T, ItemProgress], Awaitable[R]],
        *,
        span: tuple[float, float],
        steps: int = 1,
        concurrency: int | None = None,
        label: Callable[[int, T], str] = lambda index, _: f"item {index + 1}",
        checkpoint: str | None = None,
    ) -> FanOutResult[R]:
        """Run `fn(item, progress)` per item in parallel; progress moves through `span`.

        `concurrency` defaults to the worker's JOBCAST_LLM_CONCURRENCY. See `fanout.py`.
        With `checkpoint`, each item's result (JSON) is saved as "<checkpoint>/<index>"
        and items saved by an earlier attempt are not run again.
        """
        if checkpoint is not None:
            pairs = list(enumerate(items))
            return await fan_out(
                pairs,
                await self._resumable(checkpoint, pairs, fn, span[0]),
                report=self.progress,
                span=span,
                steps=steps,
                concurrency=concurrency or self._setup.concurrency,
                label=lambda index, pair: label(index, pair[1]),
            )
        return await fan_out(
            items,
            fn,
            report=self.progress,
            span=span,
            steps=steps,
            concurrency=concurrency or self._setup.concurrency,
            label=label,
        )

    async def _resumable(
        self,
        name: str,
        pairs: list[tuple[int, T]],
        fn: Callable[[T, ItemProgress], Awaitable[R]],
        pct: float,
    ) -> Callable[[tuple[int, T], ItemProgress], Awaitable[R]]:
        """`fn` with each item's result checkpointed; says how many items are reused."""
        saved = [f"{name}/{i}" for i, _ in pairs if self.checkpoints.has(f"{name}/{i}")]
        if saved:
            calls = self.checkpoints.calls_of(saved)
            message = f"Reusing {len(saved)} of {len(pairs)} finished items from earlier attempts"
            await self.progress(pct, message + f" ({calls} model calls not repeated)", None)

        async def item(pair: tuple[int, T], progress: ItemProgress) -> R:
            index, value = pair
            return await self.checkpoint(f"{name}/{index}", lambda: fn(value, progress))

        return item

    async def resume_note(self) -> None:
        """Say what earlier attempts left for this one to reuse (nothing if none)."""
        saved = list(self.checkpoints.saved)
        if saved:
            calls = self.checkpoints.calls_of(saved)
            message = f"Resuming: {len(saved)} steps finished by earlier attempts are reused"
            await self.progress(0, message + f" ({calls} model calls)", None)

    async def save_stage(self, save: SaveStage, result: dict[str, Any]) -> None:
        """Run the job type's `save` stage on its result (after its own stages). It
        reports no progress of its own, so a type's progress events stay as they were."""
        await save(self, result)

    async def save_rows(self, model: type[SQLModel], rows: Rows) -> int:
        """Write rows that outlive the job; a row whose key is already there is kept
        as it is (a retry or a duplicate writes nothing twice). Returns how many were new."""
        return await self._rows(model, rows)

    async def finish_reporting(self) -> None:
        """Copy the last progress to the database row."""
        await self._reporter.persist()
