"""Parents and children: a job may name a parent job of the same owner (`parent_id`).

The parent is a plain job; its children are counted and their progress rolled up when it
is read (`rollups`), not stored: nothing has to be written when a child moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from store.backends import Backends
from store.errors import UnknownParent
from store.models import Job
from store.status import TERMINAL, JobStatus

if TYPE_CHECKING:
    from store.access.submissions import Submission

FINISHED = [status.value for status in TERMINAL]


def check(session: Session, owner: str, batch: list[Submission], field: str = "parent_id") -> None:
    """Raise UnknownParent for the first submission whose parent is not one of the owner's
    jobs (an existing one: a batch cannot name a job of the same batch)."""
    wanted = {s.parent_id for s in batch if s.parent_id is not None}
    if not wanted:
        return
    query = select(Job.id).where(Job.owner == owner, col(Job.id).in_(wanted))
    known = set(session.exec(query))
    for index, s in enumerate(batch):
        if s.parent_id is not None and s.parent_id not in known:
            name = field.format(index=index)
            message = f"parent_id {s.parent_id!r} is not a job of yours"
            raise UnknownParent(message, [{"field": name, "message": message}])


def children_of(b: Backends, parent_ids: list[str]) -> dict[str, dict[str, Any]]:
    """`rollups` in a read-only transaction of its own."""
    with Session(b.reader) as session:
        return rollups(session, parent_ids)


def rollups(session: Session, parent_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each parent's children: their count, count by status, how many have finished and
    their mean progress (a finished child counts 100). Parents without children are absent."""
    if not parent_ids:
        return {}
    done = col(Job.status).in_(FINISHED)
    query = (
        select(
            Job.parent_id,
            Job.status,
            func.count(),
            func.sum(case((done, 100), else_=col(Job.progress))),
        )
        .where(col(Job.parent_id).in_(parent_ids))
        .group_by(col(Job.parent_id), col(Job.status))
    )
    found: dict[str, dict[str, Any]] = {}
    for parent_id, status, count, progress_sum in session.exec(query):
        roll = found.setdefault(str(parent_id), _empty())
        roll["statuses"][status] = int(count)
        roll["total"] += int(count)
        roll["done"] += int(count) if JobStatus(status).is_terminal else 0
        roll["progress_sum"] += int(progress_sum or 0)
    return {parent_id: _finish(roll) for parent_id, roll in found.items()}


def _empty() -> dict[str, Any]:
    return {"total": 0, "done": 0, "statuses": {}, "progress_sum": 0}


def _finish(roll: dict[str, Any]) -> dict[str, Any]:
    total = roll.pop("total")
    progress = roll.pop("progress_sum") // total if total else 0
    return {"total": total, "progress": progress, **roll}
