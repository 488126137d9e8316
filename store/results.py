"""Saved results: rows a job's `save` stage writes, which outlive the job.

Written with an upsert keyed by the table's primary key (the job id and the row's own
id), so a second attempt, a retry of failed items or a duplicate delivery writes each
row once: new rows are added, a row already there is left as the first write made it
(the same work, from checkpoints). Deleting the job, by the API or by retention, does
not touch these tables: that is their point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col

from store.backends import Backends
from store.models import ResultBacklogItem, ResultCanvasObject, ResultPersona

# What `GET /results/{kind}` reads: the table, its job id column and its order.
KINDS: dict[str, tuple[type[SQLModel], Any, Any]] = {
    "personas": (ResultPersona, ResultPersona.job_id, ResultPersona.persona_id),
    "backlog": (ResultBacklogItem, ResultBacklogItem.job_id, ResultBacklogItem.item_id),
    "canvas": (ResultCanvasObject, ResultCanvasObject.canvas_id, ResultCanvasObject.z),
}


def upsert(
    b: Backends, model: type[SQLModel], rows: Sequence[dict[str, Any]], owner: str | None = None
) -> int:
    """Insert the rows that are not there yet (by primary key); returns how many were new.

    `owner` (the job's) fills the table's `owner` column, when it has one."""
    if not rows:
        return 0
    table: Table = model.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
    keys = [column.name for column in table.primary_key.columns]
    # Defaults (created_at) come from the model, as the ORM would fill them.
    if owner is not None and "owner" in table.columns:
        rows = [{**row, "owner": owner} for row in rows]
    values = [model.model_validate(row).model_dump() for row in rows]
    dialect = postgresql if b.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(*table.primary_key.columns)  # rowcount is -1 on psycopg here: count these
    )
    with Session(b.engine) as session, session.begin():
        return len(session.execute(statement).all())


def saved(b: Backends, kind: str, job_id: str, owner: str) -> list[dict[str, Any]]:
    """The rows of `kind` that the owner's job saved (none for another owner's job)."""
    model, job_column, order = KINDS[kind]
    owner_column = model.owner  # type: ignore[attr-defined]  # every KINDS table has one
    statement = (
        select(model)
        .where(col(job_column) == job_id, col(owner_column) == owner)
        .order_by(col(order))
    )
    with Session(b.reader) as session:
        rows = session.execute(statement).scalars().all()
    return [row.model_dump(mode="json", exclude={"owner"}) for row in rows]
