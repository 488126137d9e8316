"""A job type's `save` stage: its result written as typed rows that outlive the job.

    register(JobType(..., run=run, save=save_rows(MyRow, my_rows)))

After the type's own stages, the worker calls `save(ctx, result)`; `save_rows` turns the
result into rows with `to_rows(job_id, result)` and writes them through `ctx.save_rows`,
an upsert keyed by the table's primary key (store/results.py): a retry or a duplicate
attempt never writes a row twice. A job module may declare its own `save` (any async
function of the context and the result) for its own tables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlmodel import SQLModel

if TYPE_CHECKING:
    from actors.pipeline.context import JobContext

Rows = Sequence[dict[str, Any]]
RowWriter = Callable[[type[SQLModel], Rows], Awaitable[int]]
SaveStage = Callable[["JobContext", dict[str, Any]], Awaitable[None]]


async def not_writable(model: type[SQLModel], rows: Rows) -> int:
    raise RuntimeError("this context has no database to save results in")


def save_rows(model: type[SQLModel], to_rows: Callable[[str, dict[str, Any]], Rows]) -> SaveStage:
    """A `save` stage writing `to_rows(job_id, result)` into `model`'s table."""

    async def save(ctx: JobContext, result: dict[str, Any]) -> None:
        await ctx.save_rows(model, to_rows(ctx.job_id, result))

    return save
