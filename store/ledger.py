"""The usage ledger: every model call's tokens and cost, per owner, job, type and model.

Workers add one row per finished (or abandoned) call; `GET /usage` and the budget check
at submit read the sums. The ledger is the durable record of spend; the live counter in
Redis (store/spend.py) is what running jobs check between tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.backends import Backends
from store.models import LedgerEntry


def record(b: Backends, entry: LedgerEntry) -> None:
    # A Core INSERT: one per model call, and the ORM's unit of work cost several times
    # the statement (docs/PERFORMANCE.md, S6/S7 2026-12-05).
    with b.engine.begin() as connection:
        connection.execute(insert(LedgerEntry), entry.model_dump(exclude={"id"}))


def spent(session: Session, owner: str, since: datetime) -> float:
    """The owner's spend (USD) on calls that ended at or after `since`."""
    total = select(func.coalesce(func.sum(LedgerEntry.cost), 0.0)).where(
        LedgerEntry.owner == owner, col(LedgerEntry.at) >= since
    )
    return float(session.exec(total).one())


def summary(b: Backends, owner: str, since: datetime) -> dict[str, Any]:
    """The owner's calls since `since`: totals, and by job type and model."""
    columns = (
        func.count(),
        func.coalesce(func.sum(LedgerEntry.prompt_tokens), 0),
        func.coalesce(func.sum(LedgerEntry.completion_tokens), 0),
        func.coalesce(func.sum(LedgerEntry.cost), 0.0),
    )
    mine = (col(LedgerEntry.owner) == owner, col(LedgerEntry.at) >= since)
    by = (col(LedgerEntry.type), col(LedgerEntry.model))
    with b.reader.connect() as connection:
        total = connection.execute(sa_select(*columns).where(*mine)).one()
        groups = connection.execute(
            sa_select(*by, *columns).where(*mine).group_by(*by).order_by(*by)
        ).all()
    return {
        **_sums(total),
        "by_type_and_model": [{"type": t, "model": m, **_sums(rest)} for t, m, *rest in groups],
    }


def _sums(row: Any) -> dict[str, Any]:
    calls, prompt, completion, cost = row
    return {
        "llm_calls": int(calls),
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "cost": round(float(cost), 6),
    }
