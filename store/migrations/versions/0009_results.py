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


def _owner_and_created_at() -> list[sa.Column[object]]:
    return [
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    ]


TABLES = ("result_persona", "result_canvas_object", "result_backlog_item")


def upgrade() -> None:
    op.create_table(
        "result_persona",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("persona_id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("bios", sa.JSON(), nullable=False),
        *_owner_and_created_at(),
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
        *_owner_and_created_at(),
    )
    op.create_table(
        "result_backlog_item",
        sa.Column("job_id", sa.String(length=32), primary_key=True),
        sa.Column("item_id", sa.String(length=40), primary_key=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        *_owner_and_created_at(),
    )
    for table in TABLES:  # a user's saved results, listed by owner
        op.create_index(f"ix_{table}_owner", table, ["owner"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
