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

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from store.backends import Backends


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
