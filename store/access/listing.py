"""Listing an owner's jobs, newest first, a page at a time."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from store import tags
from store.backends import Backends
from store.errors import BadCursor
from store.models import Job


def list_page(
    b: Backends,
    *,
    owner: str,
    status: str | None = None,
    type: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    parent_id: str | None = None,
    tag: str | None = None,
) -> tuple[list[Job], str | None]:
    """Newest first; `cursor` continues after the last job of the previous page."""
    query = select(Job).where(Job.owner == owner)
    if status is not None:
        query = query.where(Job.status == status)
    if type is not None:
        query = query.where(Job.type == type)
    if parent_id is not None:
        query = query.where(Job.parent_id == parent_id)
    if tag is not None:
        query = query.where(has_tag(tag))
    if cursor is not None:
        created, last_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                col(Job.created_at) < created,
                (col(Job.created_at) == created) & (col(Job.id) < last_id),
            )
        )
    query = query.order_by(col(Job.created_at).desc(), col(Job.id).desc()).limit(limit + 1)
    with Session(b.reader, expire_on_commit=False) as session:
        jobs = list(session.exec(query))
    if len(jobs) <= limit:
        return jobs, None
    jobs = jobs[:limit]
    return jobs, _encode_cursor(jobs[-1])


def has_tag(tag: str) -> ColumnElement[bool]:
    """Jobs with `tag` (a substring match on the tags column; see store/tags.py)."""
    return col(Job.tags).contains(tags.pattern(tag), autoescape=True)


def _encode_cursor(job: Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, job_id = raw.split("|", 1)
        if "\x00" in job_id:  # no id has one, and PostgreSQL text cannot hold it
            raise ValueError("NUL in cursor")
        return datetime.fromisoformat(created), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor() from error
