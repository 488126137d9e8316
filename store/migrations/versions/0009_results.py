"""result_persona, result_canvas_object, result_backlog_item: saved results that
outlive their job (no foreign key to job; deleting a job leaves them)

Revision ID: 0009_results
Revises: 0008_checkpoints
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.models import UTCDateTime

revision = "0009_results"
down_revision = "0008_checkpoints"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "result_persona",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("persona_id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("bios", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_table(
        "result_canvas_object",
        sa.Column("canvas_id", sa.String(length=32), primary_key=True),
        sa.Column("object_id", sa.String(length=40), primary_key=True),
        sa.Column("z", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ("x", "y", "w", "h")),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=20), nullable=False),
        _created_at(),
    )
    op.create_table(
        "result_backlog_item",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("item_id", sa.String(length=40), primary_key=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _created_at(),
    )


def downgrade() -> None:
    for table in ("result_backlog_item", "result_canvas_object", "result_persona"):
        op.drop_table(table)
