"""`ctx.checkpoint`: finished steps are saved, and a later attempt reuses them.

    brief = await ctx.checkpoint("brief", lambda: ctx.llm.text(...))

The first attempt runs the step and saves its (JSON) output with the number of model
calls it took (store/checkpoints.py); every later attempt of the same job returns the
saved output at once. Keys must name the same work on every attempt (the job's params
do not change), e.g. "brief", "backstory/3". `ctx.fan_out(..., checkpoint="batch")`
saves each item under "batch/<index>".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from store.checkpoints import Saved

T = TypeVar("T")
Save = Callable[[str, Any, int], Awaitable[None]]

# Model calls made inside the innermost running step (shared by the tasks it starts).
_calls: ContextVar[list[int] | None] = ContextVar("checkpoint_calls", default=None)


def count_call() -> None:
    """One model call was made: it counts towards the step it was made in."""
    counter = _calls.get()
    if counter is not None:
        counter[0] += 1


async def _not_saved(key: str, value: Any, calls: int) -> None:
    pass


class Checkpoints:
    """The saved steps of one job, and how to save more."""

    def __init__(self, saved: dict[str, Saved] | None = None, save: Save = _not_saved) -> None:
        self.saved = dict(saved or {})
        self._save = save
        self.reused_calls = 0  # model calls this attempt did not make again
        self.reused_steps = 0

    def has(self, key: str) -> bool:
        return key in self.saved

    def calls_of(self, keys: list[str]) -> int:
        return sum(self.saved[key].calls for key in keys if key in self.saved)

    async def run(self, key: str, step: Callable[[], Awaitable[T]]) -> T:
        """The saved output of `key`, or run `step`, save its output and return it."""
        if key in self.saved:
            self.reused_steps += 1
            self.reused_calls += self.saved[key].calls
            value: T = self.saved[key].value
            return value
        outer = _calls.get()
        counter = [0]
        token = _calls.set(counter)
        try:
            value = await step()
        finally:
            _calls.reset(token)
            if outer is not None:  # a step inside a step: its calls count for both
                outer[0] += counter[0]
        await self._save(key, value, counter[0])
        self.saved[key] = Saved(value, counter[0])
        return value
