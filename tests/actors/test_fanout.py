"""fan_out: parallel items, one progress bar over items × steps, failures kept apart."""

from __future__ import annotations

import asyncio

import pytest

from actors.pipeline.errors import JobError, LLMError
from actors.pipeline.fanout import FanOutResult, ItemProgress, fan_out


class Bar:
    """Collects what fan_out reports, as JobContext.progress would receive it."""

    def __init__(self) -> None:
        self.reports: list[tuple[float, str | None, str | None]] = []

    async def __call__(self, pct: float, message: str | None, stage: str | None) -> None:
        self.reports.append((pct, message, stage))

    @property
    def values(self) -> list[float]:
        return [pct for pct, _, _ in self.reports]


STAGES = ["name", "appearance", "backstory", "traits", "skills", "stats"]


async def test_3_items_of_6_steps_move_progress_in_18_steps_across_the_span() -> None:
    bar = Bar()

    async def item(n: int, progress: ItemProgress) -> str:
        for stage in STAGES:
            await asyncio.sleep(0.001 * n)
            await progress.step_done(f"Generated {stage}…", stage)
        return f"item {n}"

    done = await fan_out([0, 1, 2], item, report=bar, span=(20, 90), steps=6)
    assert done.succeeded == ["item 0", "item 1", "item 2"]
    assert done.failed == []
    assert len(bar.reports) == 18
    assert bar.values == sorted(bar.values)
    assert bar.values[0] == pytest.approx(20 + 70 / 18)
    assert bar.values[-1] == pytest.approx(90)
    assert {message for _, message, _ in bar.reports} == {f"Generated {s}…" for s in STAGES}


async def test_no_more_than_concurrency_items_run_at_once() -> None:
    running = 0
    most = 0

    async def item(n: int, progress: ItemProgress) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return n

    done = await fan_out(list(range(12)), item, report=Bar(), span=(0, 100), concurrency=3)
    assert most == 3
    assert done.succeeded == list(range(12))


async def test_a_failed_item_is_listed_and_the_others_complete() -> None:
    bar = Bar()

    async def item(n: int, progress: ItemProgress) -> int:
        await progress.step_done("first half")
        if n == 1:
            raise LLMError("the model server answered 500: oops", transient=True)
        await progress.step_done("second half")
        return n

    label = lambda index, n: f"batch {index + 1}"  # noqa: E731
    done: FanOutResult[int] = await fan_out(
        [0, 1, 2], item, report=bar, span=(0, 60), steps=2, label=label
    )
    assert done.succeeded == [0, 2]
    assert done.results == {0: 0, 2: 2}
    assert done.failed == [
        {
            "index": 1,
            "label": "batch 2",
            "error": {"code": "llm_error", "message": "the model server answered 500: oops"},
        }
    ]
    # The failed item's remaining step still counts, so the bar reaches the end.
    assert bar.values[-1] == pytest.approx(60)
    assert any(m and m.startswith("batch 2 failed: ") for _, m, _ in bar.reports)


async def test_when_every_item_fails_the_first_items_error_is_raised_as_it_was() -> None:
    async def item(n: int, progress: ItemProgress) -> int:
        await asyncio.sleep(0.01 * (3 - n))  # the first item fails last
        raise LLMError(f"item {n} rate limited", transient=True, retry_after=2.0)

    with pytest.raises(LLMError) as raised:
        await fan_out([0, 1, 2], item, report=Bar(), span=(0, 100))
    assert raised.value.message == "item 0 rate limited"
    assert raised.value.transient
    assert raised.value.retry_after == 2.0


async def test_a_crashing_item_is_an_internal_failure_not_a_crash_of_the_job() -> None:
    async def item(n: int, progress: ItemProgress) -> int:
        if n == 0:
            raise KeyError("missing")
        return n

    done = await fan_out([0, 1], item, report=Bar(), span=(0, 100))
    assert done.failed[0]["error"] == {"code": "internal", "message": "KeyError: 'missing'"}
    with pytest.raises(JobError):
        await fan_out([0], item, report=Bar(), span=(0, 100))


async def test_cancelling_fan_out_cancels_every_item() -> None:
    all_started = asyncio.Event()
    started: list[int] = []
    cancelled: list[int] = []

    async def item(n: int, progress: ItemProgress) -> int:
        started.append(n)
        if len(started) == 3:
            all_started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        return n

    task = asyncio.create_task(fan_out([0, 1, 2], item, report=Bar(), span=(0, 100)))
    await all_started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == [0, 1, 2]
