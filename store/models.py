"""The tables: `job` (one row per job, the system of record), `worker` (one heartbeat per
worker process), `idempotency_key` and `usage_ledger` (one row per model call)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_job_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores no offset and returns naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: jobcast stores timezone-aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Job(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_owner_created", "owner", "created_at"),
        # The active-job cap counts an owner's unfinished jobs on every submit: without
        # it the count would read every job the owner ever had.
        Index("ix_job_owner_status", "owner", "status"),
        # Serves status filters, and each worker's look at its own running jobs.
        Index("ix_job_status_worker", "status", "worker"),
        Index("ix_job_finished", "finished_at"),
        # Children of a parent (its roll-up and `GET /jobs?parent_id=`).
        Index("ix_job_parent", "parent_id"),
    )

    id: str = Field(default_factory=new_job_id, primary_key=True, max_length=32)
    owner: str = Field(default="anonymous", max_length=200)
    type: str = Field(max_length=100)
    status: str = Field(default="pending", max_length=20)
    progress: int = 0
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    stage: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    output: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    # The attempt budget: the job type's maximum, raised by each retry through the API.
    max_attempts: int = 3
    priority: int = 0
    time_limit: int | None = None
    seq: int = 0
    usage: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Free-form labels, newline-delimited (store/tags.py), and the job this one is part of.
    tags: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parent_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    started_at: datetime | None = _time()
    finished_at: datetime | None = _time()
    # When a `retrying` job's next attempt starts.
    retry_at: datetime | None = _time()
    # The running attempt's lease: taken at its claim, then kept by the heartbeat of the
    # worker process named in `worker` (see WorkerProcess); both stale: a lost worker.
    heartbeat_at: datetime | None = _time()
    worker: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class WorkerProcess(SQLModel, table=True):
    """A worker process's heartbeat: one row per process, renewed with one UPDATE per
    interval however many attempts it runs, keeping the lease of each of them."""

    __tablename__ = "worker"

    name: str = Field(primary_key=True, max_length=200)
    heartbeat_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdempotencyKey(SQLModel, table=True):
    """`Idempotency-Key` of a submit: the same key and owner name the same job for a day."""

    __tablename__ = "idempotency_key"

    owner: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=255)
    job_id: str = Field(max_length=32, index=True)
    # Hash of the request it was first used with: the same key with another body is refused.
    fingerprint: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class LedgerEntry(SQLModel, table=True):
    """One model call's tokens and cost, kept for the owner's spend (store/ledger.py).

    Rows outlive their jobs: spend is about the period, whatever was deleted since.
    """

    __tablename__ = "usage_ledger"
    __table_args__ = (Index("ix_usage_ledger_owner_at", "owner", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=200)
    job_id: str = Field(max_length=32)
    type: str = Field(max_length=100)
    provider: str = Field(max_length=100)
    model: str = Field(max_length=200)
    stage: str = Field(max_length=200)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0  # US dollars
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class JobCheckpoint(SQLModel, table=True):
    """One finished step of a job (a stage, a fan-out item): its output and the model
    calls it took, so a later attempt reuses it instead of calling the model again."""

    __tablename__ = "job_checkpoint"

    job_id: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=200)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    calls: int = 0
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


# Saved results (store/results.py): rows that outlive their job, so no foreign key to it
# and nothing deletes them with the job. Each row is keyed by its job and its own id.


class ResultPersona(SQLModel, table=True):
    """A persona made by a `generate_personas` job."""

    __tablename__ = "result_persona"

    job_id: str = Field(primary_key=True, max_length=32)
    persona_id: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    gender: str = Field(max_length=20)
    bios: Any = Field(default=None, sa_column=Column(JSON, nullable=False))
    # Who submitted the job: the rows stay theirs after the job is gone.
    owner: str = Field(default="anonymous", max_length=200, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ResultCanvasObject(SQLModel, table=True):
    """An object of the canvas a `create_canvas` job drew (the canvas id is the job id)."""

    __tablename__ = "result_canvas_object"

    canvas_id: str = Field(primary_key=True, max_length=32)
    object_id: str = Field(primary_key=True, max_length=40)
    z: int
    kind: str = Field(max_length=20)
    x: int
    y: int
    w: int
    h: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    color: str = Field(max_length=20)
    owner: str = Field(default="anonymous", max_length=200, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ResultBacklogItem(SQLModel, table=True):
    """An epic, story or task of a `generate_backlog` job; `parent_id` builds the tree."""

    __tablename__ = "result_backlog_item"

    job_id: str = Field(primary_key=True, max_length=32)
    item_id: str = Field(primary_key=True, max_length=40)  # "epic", "story-2", "story-2/task-1"
    kind: str = Field(max_length=10)  # epic | story | task
    parent_id: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=120)
    details: Any = Field(default=None, sa_column=Column(JSON, nullable=False))
    owner: str = Field(default="anonymous", max_length=200, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
