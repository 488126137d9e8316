"""`ctx.fan_out`: run one sub-pipeline per item, a few at a time, with one progress bar.

Each item has `steps` steps; finishing one moves the job's progress through its range
`span` by one n-th of it (3 items × 6 steps = 18 moves). The item function reports its
steps through `ItemProgress`, with its own message ("Generated backstories…").

An item that raises does not stop the others: it is listed in `failed` with its index,
label and error. When every item failed, the first item's `JobError` is raised (keeping
whether it is transient), so the job fails, or is retried, as a whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from actors.pipeline.errors import JobError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
Report = Callable[[float, str | None, str | None], Awaitable[None]]


class _Bar:
    """The shared progress of all items: `done` of `total` steps mapped into `span`."""

    def __init__(self, report: Report, span: tuple[float, float], total: int) -> None:
        self.report = report
        self.low, self.high = span
        self.total = max(total, 1)
        self.done = 0

    @property
    def value(self) -> float:
        return self.low + (self.high - self.low) * min(self.done, self.total) / self.total

    async def advance(self, steps: int, message: str | None, stage: str | None) -> None:
        self.done += steps
        await self.report(self.value, message, stage)


class ItemProgress:
    """One item's view of the shared progress bar."""

    def __init__(self, bar: _Bar, steps: int) -> None:
        self._bar = bar
        self.steps_left = steps

    async def step_done(self, message: str | None = None, stage: str | None = None) -> None:
        """One of this item's steps finished: the job's progress moves on by one step."""
        if self.steps_left > 0:
            self.steps_left -= 1
            await self._bar.advance(1, message, stage)

    async def note(self, message: str, stage: str | None = None) -> None:
        """Show `message` without moving the progress (an item starting its work)."""
        await self._bar.advance(0, message, stage)

    async def _skip_rest(self, message: str | None, stage: str | None) -> None:
        steps, self.steps_left = self.steps_left, 0
        await self._bar.advance(steps, message, stage)


@dataclass
class FanOutResult(Generic[R]):
    results: dict[int, R] = field(default_factory=dict)  # by item index, successes only
    failed: list[dict[str, Any]] = field(default_factory=list)  # {"index", "label", "error"}

    @property
    def succeeded(self) -> list[R]:
        """The results of the items that succeeded, in item order."""
        return [self.results[index] for index in sorted(self.results)]


async def fan_out(
    items: Sequence[T],
    fn: Callable[[T, ItemProgress], Awaitable[R]],
    *,
    report: Report,
    span: tuple[float, float],
    steps: int = 1,
    concurrency: int = 4,
    label: Callable[[int, T], str] = lambda index, _: f"item {index + 1}",
) -> FanOutResult[R]:
    """Run `fn(item, progress)` for every item, at most `concurrency` at once."""
    bar = _Bar(report, span, len(items) * steps)
    gate = asyncio.Semaphore(concurrency)
    outcome: FanOutResult[R] = FanOutResult()
    errors: dict[int, JobError] = {}

    async def run(index: int, item: T) -> None:
        progress = ItemProgress(bar, steps)
        async with gate:
            try:
                outcome.results[index] = await fn(item, progress)
            except Exception as error:
                errors[index] = _as_job_error(error, label(index, item))
                failure = {"index": index, "label": label(index, item)}
                outcome.failed.append({**failure, "error": errors[index].as_json()})
                await progress._skip_rest(f"{label(index, item)} failed: {errors[index]}", None)
            else:
                if progress.steps_left:  # steps the item did not report count as done
                    await progress._skip_rest(None, None)

    async with asyncio.TaskGroup() as group:
        for index, item in enumerate(items):
            group.create_task(run(index, item))
    outcome.failed.sort(key=lambda f: f["index"])
    if items and len(errors) == len(items):
        raise errors[0]
    return outcome


def _as_job_error(error: Exception, label: str) -> JobError:
    if isinstance(error, JobError):
        return error
    log.exception("%s crashed", label)
    return JobError(f"{type(error).__name__}: {error}")
